using System.Threading.Channels;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.Pipeline;
using EdgeCollector.Sim.OpcUa;
using EdgeCollector.Sources.OpcUa;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Host.Tests.Sources;

/// <summary>
/// The OpcUa source with SignAndEncrypt against the secured furnace-PLC simulator: the trust round trip through
/// <c>edgecollector certs</c>, no retry storm while a certificate is untrusted, and no secret in any log line.
/// </summary>
[Trait("Category", "Integration")]
[Collection(OpcUaSecurityCollection.Name)]
public sealed class OpcUaSecurityTests : IDisposable
{
    private const string Password = "Plc-Pw-4b1d6e0a-not-for-logs";
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-opcua-sec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(FurnacePlcSimulator Plc, UaCertificateStore Store)> StartPlcAsync()
    {
        var store = new UaCertificateStore(Path.Combine(_dir, "plc-pki"));
        var options = FurnacePlcSecurity.Secured(new FurnacePlcOptions().Server, store, (u, p) => u == "collector" && p == Password);
        var plc = new FurnacePlcSimulator(new FurnacePlcOptions { Furnaces = ["F1"], Server = options });
        await plc.StartAsync();
        plc.SetState("F1", Sim.OpcUa.FurnaceState.Melting);
        return (plc, store);
    }

    private string WriteConfig(string endpoint, string policy)
    {
        string config = Path.Combine(_dir, "plc.json");
        File.WriteAllText(config, $$"""
            {
              "Site": { "Id": "t", "Name": "test", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
              "Sources": [
                { "Name": "plc", "Type": "OpcUa", "Endpoint": "{{endpoint}}",
                  "Security": { "Mode": "SignAndEncrypt", "Policy": "{{policy}}" },
                  "User": { "Name": "collector", "PasswordEnv": "PLC_PASSWORD" },
                  "PublishingIntervalMs": 200,
                  "Tags": [ { "Tag": "F1.GasTotal", "NodeId": "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"GasTotal\"", "Unit": "Nm3",
                              "Counter": { "MaxRatePerHour": 1000000 } } ] }
              ],
              "Furnaces": [ { "Id": "F1", "Meters": [ { "Tag": "F1.GasTotal", "Kind": "Fuel", "Fuel": "NaturalGas" } ] } ],
              "Factors": { "Set": "t", "Fuels": { "NaturalGas": { "NcvGJPerNm3": 0.038931, "CarbonTCPerTJ": 15.3, "Oxidation": 0.99, "Source": "GB/T 32151" } } },
              "Storage": { "DataDir": "data" }
            }
            """);
        return config;
    }

    [Fact]
    public async Task First_connect_is_rejected_then_certs_trust_lets_it_connect_without_a_retry_storm()
    {
        var (plc, plcStore) = await StartPlcAsync();
        await using var _ = plc;
        var config = WriteConfig(plc.EndpointUrl, "Aes256_Sha256_RsaPss");
        var env = new Dictionary<string, string> { ["PLC_PASSWORD"] = Password };
        var logs = new List<string>();

        string recording = Path.Combine(_dir, "rec1.jsonl");
        using (var record = CollectorProcess.Start(_dir, env, "record", "--config", config, "--out", recording))
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!(record.Stdout + record.Stderr).Contains("BadCertificateUntrusted", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !record.HasExited)
                await Task.Delay(200);
            // Keep it running a while: an untrusted certificate must not be retried every second.
            await Task.Delay(TimeSpan.FromSeconds(4));
            await record.StopAsync(TimeSpan.FromSeconds(15));
            var output = record.Stdout + record.Stderr;
            logs.Add(output);
            // One attempt, one log line naming the status code; the next try waits 30 s.
            var attempts = output.Split('\n').Where(l => l.Contains("BadCertificateUntrusted", StringComparison.Ordinal)).ToList();
            Assert.True(attempts.Count == 1, output);
            Assert.Contains("retrying in 00:00:30", attempts[0], StringComparison.Ordinal);
            Assert.Contains("certs trust", output, StringComparison.Ordinal);
        }

        var list = await CollectorProcess.RunAsync(_dir, "certs", "list", "--config", config);
        Assert.Equal(0, list.ExitCode);
        var plcThumbprint = plcStore.LoadOrCreateOwn(new FurnacePlcOptions().Server.ApplicationUri, "x").Thumbprint;
        Assert.Contains(list.Stdout.Split('\n'), l => l.StartsWith("rejected", StringComparison.Ordinal) && l.Contains(plcThumbprint, StringComparison.Ordinal));
        Assert.Contains(list.Stdout.Split('\n'), l => l.StartsWith("own", StringComparison.Ordinal) && l.Contains(OpcUaSource.ApplicationUri, StringComparison.Ordinal));

        var trust = await CollectorProcess.RunAsync(_dir, "certs", "trust", plcThumbprint[..10], "--config", config);
        Assert.True(trust.ExitCode == 0, trust.Stderr);
        Assert.Contains("trusted " + plcThumbprint, trust.Stdout, StringComparison.Ordinal);
        var again = await CollectorProcess.RunAsync(_dir, "certs", "trust", "0123456789AB", "--config", config);
        Assert.Equal(2, again.ExitCode);

        // The PLC must trust the collector too (an operator does this on the PLC side).
        File.Copy(Path.Combine(_dir, "data", "pki", "own", "cert.der"), Path.Combine(plcStore.TrustedFolder, "collector.der"));

        recording = Path.Combine(_dir, "rec2.jsonl");
        using (var record = CollectorProcess.Start(_dir, env, "record", "--config", config, "--out", recording))
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.False(record.HasExited, record.Stderr);
            Assert.Equal(0, await record.StopAsync(TimeSpan.FromSeconds(15)));
            logs.Add(record.Stdout + record.Stderr);
        }

        var gas = File.ReadLines(recording).Select(RecordCodec.Parse).OfType<TagRecord>().Where(r => r.Tag == "F1.GasTotal" && r.Quality == SampleQuality.Good).ToList();
        Assert.True(gas.Count >= 3, $"{gas.Count} readings:\n{string.Join('\n', logs)}");
        AssertNoSecrets(string.Join('\n', logs), Path.Combine(_dir, "data", "pki"));
    }

    [Fact]
    public async Task No_password_or_key_material_in_log_lines_at_any_level()
    {
        var (plc, plcStore) = await StartPlcAsync();
        await using var _ = plc;
        var pki = Path.Combine(_dir, "collector-pki");
        var capture = new CaptureLogger();
        Environment.SetEnvironmentVariable("EC_TEST_PLC_PASSWORD", Password);
        Environment.SetEnvironmentVariable("EC_TEST_WRONG_PASSWORD", Password + "-wrong");
        try
        {
            // Trust both ways, then run once with the right password and once with a wrong one.
            var own = new UaCertificateStore(pki).LoadOrCreateOwn(OpcUaSource.ApplicationUri, "EdgeCollector");
            File.WriteAllBytes(Path.Combine(plcStore.TrustedFolder, "collector.der"), own.RawData);
            File.WriteAllBytes(Path.Combine(pki, "trusted", "plc.der"), plcStore.LoadOrCreateOwn(new FurnacePlcOptions().Server.ApplicationUri, "x").RawData);
            foreach (var (env, expectRecords) in new[] { ("EC_TEST_PLC_PASSWORD", true), ("EC_TEST_WRONG_PASSWORD", false) })
            {
                var source = new OpcUaSource(Source(plc.EndpointUrl, env), capture, pkiDir: pki);
                var items = Channel.CreateUnbounded<SourceItem>();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(4));
                try
                {
                    await source.RunAsync(items.Writer, null, cts.Token);
                }
                catch (OperationCanceledException)
                {
                }

                Assert.Equal(expectRecords, items.Reader.Count > 0);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("EC_TEST_PLC_PASSWORD", null);
            Environment.SetEnvironmentVariable("EC_TEST_WRONG_PASSWORD", null);
        }

        var text = capture.Text;
        // The wrong password was tried once in 4 s (logged as an error naming the status code), not in a loop.
        var refused = text.Split('\n').Where(l => l.StartsWith("Error: ", StringComparison.Ordinal) && l.Contains("BadUserAccessDenied", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count == 1, text);
        Assert.Contains("refused user 'collector'", refused[0], StringComparison.Ordinal);
        // Lines of several levels were captured (the logger enables every level, Trace included).
        Assert.Contains("Information: ", text, StringComparison.Ordinal);
        Assert.Contains("Error: ", text, StringComparison.Ordinal);
        AssertNoSecrets(text, pki);
    }

    [Theory]
    [InlineData(0x801A0000u, true)]  // BadCertificateUntrusted
    [InlineData(0x80140000u, true)]  // BadCertificateTimeInvalid
    [InlineData(0x80160000u, true)]  // BadCertificateHostNameInvalid
    [InlineData(0x801F0000u, true)]  // BadUserAccessDenied
    [InlineData(0x80550000u, true)]  // BadSecurityPolicyRejected
    [InlineData(0x800A0000u, false)] // BadTimeout: a network problem, retried quickly
    [InlineData(0x808A0000u, false)] // BadNotConnected
    public void Only_failures_an_operator_must_fix_get_the_slow_retry(uint code, bool slow)
    {
        Assert.Equal(slow, OpcUaSource.NeedsOperator(new EdgeCollector.OpcUa.Encoding.StatusCode(code)));
    }

    private static SourceConfig Source(string endpoint, string passwordEnv) => new()
    {
        Name = "plc",
        Type = SourceType.OpcUa,
        Endpoint = endpoint,
        SecurityMode = SecurityMode.SignAndEncrypt,
        SecurityPolicy = "Basic256Sha256",
        UserName = "collector",
        PasswordEnv = passwordEnv,
        PublishingIntervalMs = 200,
        Tags = [new TagConfig { Tag = "F1.GasTotal", NodeId = "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"GasTotal\"" }],
    };

    /// <summary>The password (and its wrong variant) and every line of the private key file must be absent.</summary>
    private static void AssertNoSecrets(string logs, string pki)
    {
        Assert.DoesNotContain(Password, logs, StringComparison.Ordinal);
        var keyLines = File.ReadAllLines(Path.Combine(pki, "own", "key.pem")).Where(l => !l.StartsWith("-----", StringComparison.Ordinal) && l.Length >= 16).ToList();
        Assert.NotEmpty(keyLines);
        foreach (var line in keyLines)
            Assert.DoesNotContain(line, logs, StringComparison.Ordinal);
    }

    /// <summary>Captures every log line at every level, with its exception.</summary>
    private sealed class CaptureLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public string Text
        {
            get
            {
                lock (_lines)
                    return string.Join('\n', _lines);
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
                _lines.Add($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}

/// <summary>
/// Runs the OPC UA security process tests alone (RSA key generation and two collector processes would otherwise
/// compete with the timing-sensitive source tests running in parallel).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OpcUaSecurityCollection
{
    public const string Name = "OPC UA security (not parallel)";
}
