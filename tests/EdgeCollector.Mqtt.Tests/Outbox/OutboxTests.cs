using System.Text;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Outbox;
using EdgeCollector.Mqtt.Tests.Infrastructure;

namespace EdgeCollector.Mqtt.Tests.Outbox;

public sealed class OutboxTests : IDisposable
{
    private readonly string _dir = Net.TempDir("outbox-unit");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Seq_and_bytes_survive_reopen_and_are_never_reused()
    {
        long a, b;
        await using (var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir }))
        {
            a = await outbox.EnqueueAsync("t/1", s => Encoding.UTF8.GetBytes($"{{\"seq\":{s}}}"), retain: true, OutboxPriority.Status);
            b = await outbox.EnqueueAsync("t/2", new byte[] { 0, 1, 2, 255 }, retain: false, OutboxPriority.Raw);
            Assert.Equal(a + 1, b);
            await outbox.DeleteAsync([a, b]);
            Assert.Equal(0, outbox.Count);
        }
        await using (var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir }))
        {
            long c = await outbox.EnqueueAsync("t/3", s => Encoding.UTF8.GetBytes($"{{\"seq\":{s}}}"), retain: true, OutboxPriority.Aggregate);
            Assert.Equal(b + 1, c); // deleted seqs are not handed out again
            var stored = Assert.Single(await outbox.ReadAfterAsync(0, 10));
            Assert.Equal(new OutboxMessage(c, "t/3", Encoding.UTF8.GetBytes($"{{\"seq\":{c}}}"), true, OutboxPriority.Aggregate) with { Payload = stored.Payload, EnqueuedAtUnixMs = stored.EnqueuedAtUnixMs }, stored);
            // The commit time comes back with the message (publish latency is measured from it).
            Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - stored.EnqueuedAtUnixMs, 0, 60_000);
            Assert.Equal($"{{\"seq\":{c}}}", Encoding.UTF8.GetString(stored.Payload));
        }
    }

    [Fact]
    public async Task Database_is_in_wal_mode()
    {
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir });
        await outbox.EnqueueAsync("t", new byte[] { 1 }, false, OutboxPriority.Raw);
        Assert.True(File.Exists(outbox.DatabasePath + "-wal"));
    }

    [Fact]
    public async Task Full_outbox_drops_raw_before_aggregates_and_counts_and_logs_each_drop()
    {
        var log = new List<string>();
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions
        {
            Directory = _dir, MaxMessages = 4, Log = (level, m, _) => { if (level == MqttLogLevel.Warning) log.Add(m); },
        });
        long raw1 = await outbox.EnqueueAsync("raw", new byte[] { 1 }, false, OutboxPriority.Raw);
        long agg1 = await outbox.EnqueueAsync("agg", new byte[] { 2 }, false, OutboxPriority.Aggregate);
        long raw2 = await outbox.EnqueueAsync("raw", new byte[] { 3 }, false, OutboxPriority.Raw);
        long agg2 = await outbox.EnqueueAsync("agg", new byte[] { 4 }, false, OutboxPriority.Aggregate);
        // Full: a new aggregate pushes out the oldest raw message, then the next raw one.
        long agg3 = await outbox.EnqueueAsync("agg", new byte[] { 5 }, false, OutboxPriority.Aggregate);
        long agg4 = await outbox.EnqueueAsync("agg", new byte[] { 6 }, false, OutboxPriority.Aggregate);
        Assert.Equal([agg1, agg2, agg3, agg4], (await outbox.ReadAfterAsync(0, 10)).Select(m => m.Seq));
        // Only aggregates left: a raw message is itself dropped, an aggregate replaces the oldest aggregate.
        Assert.Equal(-1, await outbox.EnqueueAsync("raw", new byte[] { 7 }, false, OutboxPriority.Raw));
        long agg5 = await outbox.EnqueueAsync("agg", new byte[] { 8 }, false, OutboxPriority.Aggregate);
        Assert.Equal([agg2, agg3, agg4, agg5], (await outbox.ReadAfterAsync(0, 10)).Select(m => m.Seq));
        Assert.Equal(4, outbox.DroppedCount);
        Assert.Equal(4, log.Count);
        Assert.Contains($"seq {raw1}", log[0], StringComparison.Ordinal);
        Assert.Contains($"seq {raw2}", log[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Byte_budget_is_enforced()
    {
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir, MaxBytes = 100 });
        await outbox.EnqueueAsync("a", new byte[60], false, OutboxPriority.Raw);
        await outbox.EnqueueAsync("b", new byte[60], false, OutboxPriority.Raw);
        Assert.Equal(1, outbox.Count);
        Assert.Equal(60, outbox.Bytes);
        Assert.Equal(-1, await outbox.EnqueueAsync("c", new byte[101], false, OutboxPriority.Status));
        Assert.Equal(2, outbox.DroppedCount);
    }
}
