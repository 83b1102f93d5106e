using System.Globalization;
using System.Text;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Outbox;
using EdgeCollector.Mqtt.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EdgeCollector.Mqtt.Tests.Integration;

/// <summary>
/// Delivery under faults, counted message by message by an independent mosquitto_sub (persistent session,
/// QoS 1): broker outage mid-stream, and a publisher process killed with SIGKILL while its outbox holds messages.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OutboxFaultTests : IAsyncLifetime
{
    private MosquittoBroker _broker = null!;
    private string _dir = "";

    public async Task InitializeAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        _dir = Net.TempDir("outbox");
    }

    public async Task DisposeAsync()
    {
        if (_broker is not null) await _broker.DisposeAsync();
        if (_dir.Length > 0)
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }

    private static Dictionary<long, List<string>> BySeq(List<(string Topic, string Payload)> messages) =>
        messages.GroupBy(m => long.Parse(m.Payload.Split(';')[0]["seq=".Length..], CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Select(m => m.Payload).ToList());

    private static void AssertAllOnceOrIdentical(IEnumerable<long> expected, Dictionary<long, List<string>> got)
    {
        var missing = expected.Where(s => !got.ContainsKey(s)).ToList();
        Assert.True(missing.Count == 0, $"lost {missing.Count} messages: {string.Join(',', missing.Take(20))}");
        foreach (var (seq, payloads) in got)
            Assert.True(payloads.Distinct().Count() == 1, $"seq {seq} arrived with different bytes: {string.Join(" | ", payloads)}");
    }

    [Fact]
    public async Task Broker_stopped_mid_stream_and_restarted_loses_nothing()
    {
        string topic = $"test/{Guid.NewGuid():N}/kpi";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, topic);
        var log = new List<string>();
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir });
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = _broker.PlainPort, ClientId = "edge-outage", UserName = MosquittoBroker.User, Password = MosquittoBroker.Password,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200), ReconnectMaxDelay = TimeSpan.FromSeconds(1), KeepAlive = TimeSpan.FromSeconds(3),
            Log = (_, m, _) => { lock (log) log.Add(m); },
        });
        await client.StartAsync();
        await using var publisher = new OutboxPublisher(client, outbox);
        publisher.Start();

        var seqs = new List<long>();
        const int Total = 300;
        var brokerDown = Task.CompletedTask;
        for (int i = 0; i < Total; i++)
        {
            seqs.Add(await publisher.EnqueueAsync(topic, s => Encoding.UTF8.GetBytes($"seq={s};i={i}"), false, OutboxPriority.Aggregate));
            if (i == 100)
            {
                await _broker.StopAsync();
                // Down for 6 s while messages keep being produced, then back.
                brokerDown = Task.Run(async () => { await Task.Delay(6000); await _broker.RestartAsync(); });
            }
            await Task.Delay(i is > 100 and < 200 ? 40 : 5);
        }
        await brokerDown.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await publisher.WaitUntilEmptyAsync(TimeSpan.FromSeconds(30)), $"outbox not drained ({outbox.Count} left). Log:\n{string.Join('\n', log)}");

        var got = await sub.WaitForAsync(m => BySeq(m).Count >= Total, TimeSpan.FromSeconds(20));
        var bySeq = BySeq(got);
        AssertAllOnceOrIdentical(seqs, bySeq);
        Assert.Equal(Total, bySeq.Count);
        // Oldest first: the backlog drained before the messages produced after the reconnect, so the first
        // arrival of each seq is in seq order.
        var firstArrivals = got.Select(m => long.Parse(m.Payload.Split(';')[0]["seq=".Length..], CultureInfo.InvariantCulture)).Distinct().ToList();
        Assert.Equal(firstArrivals.Order(), firstArrivals);
        Assert.Contains(log, l => l.Contains("connection lost", StringComparison.OrdinalIgnoreCase));
        // seqs are strictly increasing in enqueue order.
        Assert.Equal(seqs.Order(), seqs);
        // Publish latency: every message acknowledged was measured, and the ones that waited out the 6 s outage
        // show it (commit → PUBACK), while the ones sent before the outage did not wait.
        var latency = publisher.PublishLatency;
        Assert.InRange(latency.Count, Total, Total + 50);
        var buckets = latency.Cumulative();
        long underOneSecond = buckets.First(b => b.UpperBound == 1).CumulativeCount;
        long underTwoAndAHalf = buckets.First(b => b.UpperBound == 2.5).CumulativeCount;
        Assert.True(underOneSecond >= 90, $"{underOneSecond} messages within 1 s");
        Assert.True(latency.Count - underTwoAndAHalf >= 10, $"{latency.Count - underTwoAndAHalf} messages over 2.5 s; the outage lasted 6 s");
        Assert.Equal(latency.Count, buckets[^1].CumulativeCount);
    }

    [Fact]
    public async Task Publisher_killed_with_sigkill_while_outbox_holds_messages_delivers_all_after_restart()
    {
        string topic = $"test/{Guid.NewGuid():N}/kpi";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, topic);
        string dll = typeof(Program).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string port = _broker.PlainPort.ToString(CultureInfo.InvariantCulture);

        List<long> Enqueued(PeerProcess p) => p.Lines().Where(l => l.StartsWith("ENQUEUED ", StringComparison.Ordinal))
            .Select(l => long.Parse(l["ENQUEUED ".Length..], CultureInfo.InvariantCulture)).ToList();

        List<long> first;
        using (var child = PeerProcess.Start(dotnet, [dll, "outbox-publish", _dir, port, MosquittoBroker.User, MosquittoBroker.Password, topic, "100000", "5"]))
        {
            await sub.WaitForAsync(m => m.Count >= 50, TimeSpan.FromSeconds(30));
            Assert.True(sub.Messages().Count >= 50, $"child did not publish. Child:\n{child.Output}");
            // Broker down: what the child enqueues from now on can only sit in its outbox.
            await _broker.StopAsync();
            int before = Enqueued(child).Count;
            await child.WaitForLineAsync(_ => Enqueued(child).Count >= before + 60, TimeSpan.FromSeconds(20));
            child.Signal("KILL");
            Assert.True(await child.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            first = Enqueued(child);
        }

        // The killed process left committed, unsent messages behind.
        long stored;
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_dir, "outbox.db")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM message";
            stored = (long)(await cmd.ExecuteScalarAsync())!;
        }
        Assert.True(stored >= 60, $"only {stored} messages in the outbox at the kill");

        await _broker.RestartAsync();
        using var second = PeerProcess.Start(dotnet, [dll, "outbox-publish", _dir, port, MosquittoBroker.User, MosquittoBroker.Password, topic, "20", "0"]);
        await second.WaitForLineAsync(l => l == "DRAINED", TimeSpan.FromSeconds(60));
        var after = Enqueued(second);
        Assert.Equal(20, after.Count);
        Assert.True(after.Min() > first.Max(), "seq counter must survive the crash");
        Assert.Equal(0, await Task.Run(async () => { await second.WaitForExitAsync(TimeSpan.FromSeconds(10)); return second.ExitCode; }));

        var expected = first.Concat(after).ToList();
        var got = await sub.WaitForAsync(m => BySeq(m).Count >= expected.Count, TimeSpan.FromSeconds(30));
        AssertAllOnceOrIdentical(expected, BySeq(got));
    }
}
