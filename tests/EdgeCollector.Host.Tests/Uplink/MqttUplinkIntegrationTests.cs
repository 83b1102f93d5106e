using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EdgeCollector.Host.Tests.Process;

namespace EdgeCollector.Host.Tests.Uplink;

/// <summary>
/// The collector against a real broker (mosquitto) and an independent subscriber (mosquitto_sub):
/// the broker is down while the collector works through the sample shift, so everything waits in
/// the durable outbox; once the broker is up, every message arrives, byte-identical to the replay,
/// and the retained status says online.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MqttUplinkIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-mqtt-").FullName;
    private readonly PeerProcesses _peers = new();

    [Fact]
    public async Task Messages_wait_in_the_outbox_while_the_broker_is_down_and_all_arrive_when_it_is_up()
    {
        string sample = Path.Combine(CollectorProcess.RepoRoot, "config", "sample-shift.jsonl");
        var replay = await CollectorProcess.RunAsync(_dir, "replay", "--in", sample, "--out", "reference.jsonl");
        Assert.Equal(0, replay.ExitCode);
        var expected = File.ReadLines(Path.Combine(_dir, "reference.jsonl")).Select(l =>
        {
            using var d = JsonDocument.Parse(l);
            return (Topic: d.RootElement.GetProperty("topic").GetString()!, Payload: d.RootElement.GetProperty("payload").GetRawText());
        }).ToList();

        int port = PeerProcesses.FreePort();
        string dataDir = Path.Combine(_dir, "data");
        string[] args = ["run", "--until-sources-end", "--set", $"Sources:0:Path={sample}", "--set", $"Storage:DataDir={dataDir}",
            "--set", $"Uplink:Mqtt:Broker=mqtt://127.0.0.1:{port}", "--set", "Uplink:Mqtt:ClientId=edge-test",
            "--set", "Uplink:Mqtt:User=collector", "--set", "Uplink:Mqtt:PasswordEnv=MQTT_TEST_PASSWORD"];

        // Broker down: the collector computes everything, commits it, hands it to the MQTT outbox, and waits.
        using var collector = CollectorProcess.Start(_dir, new Dictionary<string, string> { ["MQTT_TEST_PASSWORD"] = "s3cret" }, args);
        await PeerProcesses.WaitUntilAsync(() => MqttOutboxRows(dataDir) >= expected.Count, TimeSpan.FromSeconds(60), "the MQTT outbox to hold every message");
        Assert.False(collector.HasExited);

        // Broker up, but at first it knows only the subscriber: the collector is refused until the
        // independent subscriber holds its subscription, so it cannot publish into a gap.
        string passwords = Path.Combine(_dir, "passwd");
        await _peers.RunToEndAsync("/usr/bin/mosquitto_passwd", "-b", "-c", passwords, "subscriber", "sub");
        string conf = Path.Combine(_dir, "mosquitto.conf");
        // max_queued_messages 0: mosquitto's default queue (1000 per client) would drop QoS 1 messages
        // for a subscriber that lags behind the collector's burst out of the outbox.
        await File.WriteAllTextAsync(conf, $"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\npersistence false\nuser root\nmax_queued_messages 0\n");
        var broker = _peers.Start("/usr/sbin/mosquitto", "-c", conf);
        await PeerProcesses.WaitUntilAsync(() => PeerProcesses.CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto to listen");
        // stdbuf: with its output redirected, mosquitto_sub would hold its debug lines in a buffer.
        var sub = _peers.Start("/usr/bin/stdbuf", "-oL", "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", "subscriber", "-P", "sub", "-V", "mqttv5", "-q", "1", "-t", "edgecollector/v1/#", "-F", "%j", "-d");
        var lines = new List<string>();
        bool subscribed = false;
        sub.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith('{')) { lock (lines) lines.Add(e.Data); }
            else if (e.Data.Contains("SUBACK", StringComparison.Ordinal)) { subscribed = true; }
        };
        sub.BeginOutputReadLine();
        await PeerProcesses.WaitUntilAsync(() => Volatile.Read(ref subscribed), TimeSpan.FromSeconds(10), "the subscriber's SUBACK");
        await _peers.RunToEndAsync("/usr/bin/mosquitto_passwd", "-b", passwords, "collector", "s3cret");
        using (var hup = System.Diagnostics.Process.Start("/bin/kill", ["-HUP", broker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await hup.WaitForExitAsync();
        }

        int code = await collector.WaitAsync(TimeSpan.FromSeconds(120));   // reconnect back-off is capped at 30 s
        Assert.True(code == 0, collector.Stderr);
        await PeerProcesses.WaitUntilAsync(() => { lock (lines) return lines.Count >= expected.Count + 2; }, TimeSpan.FromSeconds(30), "the subscriber to receive everything");

        List<(string Topic, string Payload)> got;
        lock (lines)
        {
            got = lines.Select(l =>
            {
                using var d = JsonDocument.Parse(l);
                var r = d.RootElement;
                return (r.GetProperty("topic").GetString()!, r.GetProperty("payload").GetString()!);
            }).ToList();
        }

        var status = got.Where(m => m.Topic == "edgecollector/v1/demo/site/status").ToList();
        Assert.True(status.Count >= 2, $"{status.Count} status message(s)");
        using (var s = JsonDocument.Parse(status[0].Payload))
        {
            Assert.Equal("edgecollector.status/1", s.RootElement.GetProperty("schema").GetString());
            Assert.Equal("online", s.RootElement.GetProperty("state").GetString());
            Assert.True(s.RootElement.GetProperty("sources").GetProperty("sample").GetProperty("connected").GetBoolean());
        }

        using (var s = JsonDocument.Parse(status[^1].Payload))
        {
            Assert.Equal("offline", s.RootElement.GetProperty("state").GetString());   // the collector stopped cleanly
        }

        var kpis = got.Where(m => !m.Topic.EndsWith("/status", StringComparison.Ordinal)).Select(m => (m.Topic, m.Payload)).Distinct().ToList();
        Assert.Equal(expected.Count, kpis.Count);
        Assert.Equal(expected.OrderBy(e => e.Topic).ThenBy(e => e.Payload), kpis.OrderBy(e => e.Topic).ThenBy(e => e.Payload));
    }

    private static long MqttOutboxRows(string dataDir)
    {
        string dir = Path.Combine(dataDir, "mqtt");
        if (!Directory.Exists(dir))
        {
            return 0;
        }

        foreach (var db in Directory.GetFiles(dir, "*.db"))
        {
            try
            {
                using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
                var tables = new List<string>();
                using (var r = cmd.ExecuteReader())
                {
                    while (r.Read()) tables.Add(r.GetString(0));
                }

                long rows = 0;
                foreach (var t in tables)
                {
                    cmd.CommandText = $"SELECT COUNT(*) FROM \"{t}\"";
                    rows = Math.Max(rows, Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
                }

                return rows;
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
            }
        }

        return 0;
    }

    public void Dispose()
    {
        _peers.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
