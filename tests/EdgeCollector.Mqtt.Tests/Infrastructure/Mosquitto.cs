using System.Globalization;

namespace EdgeCollector.Mqtt.Tests.Infrastructure;

/// <summary>
/// CA, server and client certificates generated with openssl into a temp dir, plus a second, unrelated CA
/// for negative tests.
/// </summary>
internal sealed class TestPki
{
    public required string Dir { get; init; }
    public string CaCert => Path.Combine(Dir, "ca.crt");
    public string OtherCaCert => Path.Combine(Dir, "other-ca.crt");
    public string ServerCert => Path.Combine(Dir, "server.crt");
    public string ServerKey => Path.Combine(Dir, "server.key");
    public string ClientCert => Path.Combine(Dir, "client.crt");
    public string ClientKey => Path.Combine(Dir, "client.key");
    public string ClientPfx => Path.Combine(Dir, "client.pfx");
    public const string PfxPassword = "pfx pw";

    public static async Task<TestPki> CreateAsync(string dir)
    {
        const string openssl = "/usr/bin/openssl";
        var pki = new TestPki { Dir = dir };
        string ec = "ec_paramgen_curve:prime256v1";
        foreach (var (name, cn) in new[] { ("ca", "EdgeCollector Test CA"), ("other-ca", "Unrelated CA") })
        {
            await PeerProcess.RunAsync(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes",
                "-keyout", Path.Combine(dir, name + ".key"), "-out", Path.Combine(dir, name + ".crt"), "-days", "2",
                "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
        foreach (var (name, cn) in new[] { ("server", "localhost"), ("client", "edge-client") })
        {
            await PeerProcess.RunAsync(openssl, ["req", "-newkey", "ec", "-pkeyopt", ec, "-nodes",
                "-keyout", Path.Combine(dir, name + ".key"), "-out", Path.Combine(dir, name + ".csr"), "-subj", "/CN=" + cn]);
            await PeerProcess.RunAsync(openssl, ["x509", "-req", "-in", Path.Combine(dir, name + ".csr"), "-CA", pki.CaCert,
                "-CAkey", Path.Combine(dir, "ca.key"), "-CAcreateserial", "-out", Path.Combine(dir, name + ".crt"), "-days", "2",
                "-extfile", Path.Combine(dir, name + ".ext")]);
        }
        await PeerProcess.RunAsync(openssl, ["pkcs12", "-export", "-in", pki.ClientCert, "-inkey", pki.ClientKey,
            "-out", pki.ClientPfx, "-passout", "pass:" + PfxPassword]);
        return pki;
    }
}

/// <summary>
/// mosquitto 2.0 started from a generated config on free loopback ports: a plain listener, a TLS listener and a
/// TLS listener that requires a client certificate; password file with user/pass; persistence on so a
/// graceful stop (SIGTERM) and restart keeps the subscriber's persistent session.
/// </summary>
internal sealed class MosquittoBroker : IAsyncDisposable
{
    public const string User = "edge";
    public const string Password = "s3cret pass";
    private PeerProcess? _process;

    public required string Dir { get; init; }
    public required TestPki Pki { get; init; }
    public int PlainPort { get; } = Net.FreePort();
    public int TlsPort { get; } = Net.FreePort();
    public int MutualTlsPort { get; } = Net.FreePort();
    public string ConfigPath => Path.Combine(Dir, "mosquitto.conf");
    public string Log => _process?.Output ?? "";

    /// <summary>Further mosquitto.conf lines (global options, e.g. max_inflight_messages), placed before the listeners.</summary>
    public IReadOnlyList<string> ExtraConfig { get; init; } = [];

    public static async Task<MosquittoBroker> StartAsync(params string[] extraConfig)
    {
        PeerProcess.Require("/usr/sbin/mosquitto");
        string dir = Net.TempDir("mosq");
        TestPki pki;
        try
        {
            pki = await TestPki.CreateAsync(dir);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
        var broker = new MosquittoBroker { Dir = dir, Pki = pki, ExtraConfig = extraConfig };
        try
        {
            await broker.ConfigureAndStartAsync();
            return broker;
        }
        catch
        {
            await broker.DisposeAsync(); // a failed start must not leave mosquitto running
            throw;
        }
    }

    private async Task ConfigureAndStartAsync()
    {
        var broker = this;
        var pki = Pki;
        string dir = Dir;
        string passwd = Path.Combine(dir, "passwd");
        await PeerProcess.RunAsync("/usr/bin/mosquitto_passwd", ["-b", "-c", passwd, User, Password]);
        string conf = string.Join('\n', ExtraConfig.Concat(new[] {
            // Run as root in CI would otherwise switch to user "mosquitto", which cannot read the temp dir.
            "user root",
            "per_listener_settings false",
            "allow_anonymous false",
            $"password_file {passwd}",
            "persistence true",
            $"persistence_location {dir}/",
            "autosave_interval 1",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "max_queued_messages 100000",
            $"listener {broker.PlainPort} 127.0.0.1",
            $"listener {broker.TlsPort} 127.0.0.1",
            $"cafile {pki.CaCert}",
            $"certfile {pki.ServerCert}",
            $"keyfile {pki.ServerKey}",
            $"listener {broker.MutualTlsPort} 127.0.0.1",
            $"cafile {pki.CaCert}",
            $"certfile {pki.ServerCert}",
            $"keyfile {pki.ServerKey}",
            "require_certificate true",
            "" }));
        await File.WriteAllTextAsync(broker.ConfigPath, conf);
        await broker.RestartAsync();
    }

    /// <summary>(Re)starts the broker process and waits until all listeners accept connections.</summary>
    public async Task RestartAsync()
    {
        _process?.Dispose();
        _process = PeerProcess.Start("/usr/sbin/mosquitto", ["-c", ConfigPath]);
        foreach (int port in new[] { PlainPort, TlsPort, MutualTlsPort })
            await Net.WaitForPortAsync(port, TimeSpan.FromSeconds(10), _process);
    }

    /// <summary>Graceful stop (SIGTERM: the persistence file is written), bounded.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Signal("TERM");
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(10))) _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _process?.Dispose();
        await Task.Yield();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// An independent subscriber: <c>mosquitto_sub -v -V mqttv5</c> with a persistent session (-c, fixed id) at QoS 1,
/// so messages published while it reconnects after a broker restart are queued for it.
/// </summary>
internal sealed class MosquittoSubscriber : IDisposable
{
    private readonly PeerProcess _process;
    private readonly string _prefix;

    private MosquittoSubscriber(PeerProcess process, string prefix)
    {
        _process = process;
        _prefix = prefix;
    }

    public static async Task<MosquittoSubscriber> StartAsync(MosquittoBroker broker, string topicFilter, string protocol = "mqttv5")
    {
        string id = "sub-" + Guid.NewGuid().ToString("N")[..8];
        // stdbuf -oL: mosquitto_sub's stdout is block-buffered when it is a pipe; we need each line as it comes.
        var p = PeerProcess.Start("/usr/bin/stdbuf", ["-oL", PeerProcess.Require("/usr/bin/mosquitto_sub"),
            "-h", "127.0.0.1", "-p", broker.PlainPort.ToString(CultureInfo.InvariantCulture),
            "-u", MosquittoBroker.User, "-P", MosquittoBroker.Password,
            "-V", protocol, "-i", id, "-c", "-q", "1", "-t", topicFilter, "-v", "-d"]);
        var sub = new MosquittoSubscriber(p, topicFilter.TrimEnd('#', '/'));
        try
        {
            await p.WaitForLineAsync(l => l.Contains("SUBACK", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            return sub;
        }
        catch
        {
            sub.Dispose(); // never leave a subscriber behind
            throw;
        }
    }

    /// <summary>Received messages as (topic, payload text), in arrival order.</summary>
    public List<(string Topic, string Payload)> Messages() =>
        _process.Lines()
            .Where(l => l.StartsWith(_prefix, StringComparison.Ordinal) && l.Contains(' ', StringComparison.Ordinal))
            .Select(l => (l[..l.IndexOf(' ', StringComparison.Ordinal)], l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]))
            .ToList();

    public async Task<List<(string Topic, string Payload)>> WaitForAsync(Func<List<(string Topic, string Payload)>, bool> done, TimeSpan timeout)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            var m = Messages();
            if (done(m)) return m;
            await Task.Delay(50);
        }
        return Messages();
    }

    public string Output => _process.Output;

    public void Dispose() => _process.Dispose();
}
