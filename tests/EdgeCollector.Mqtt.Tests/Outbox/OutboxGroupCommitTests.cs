using System.Globalization;
using System.Text;
using EdgeCollector.Mqtt.Outbox;
using EdgeCollector.Mqtt.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EdgeCollector.Mqtt.Tests.Outbox;

/// <summary>
/// Group commit: concurrent enqueues share one transaction, a failing request does not take the others down, and a
/// seq handed back to a caller is on disk (a process killed with SIGKILL mid-stream keeps every one of them).
/// </summary>
public sealed class OutboxGroupCommitTests : IDisposable
{
    private readonly string _dir = Net.TempDir("outbox-group");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static byte[] Payload(long seq) => Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}");

    [Fact]
    public async Task Enqueues_waiting_while_a_transaction_commits_all_go_into_the_next_one()
    {
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir });
        // The first request holds the commit loop inside its transaction until the others are queued.
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var first = outbox.EnqueueAsync("t/first", s => { entered.Set(); gate.Wait(TimeSpan.FromSeconds(30)); return Payload(s); }, false, OutboxPriority.Aggregate);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
        var rest = Enumerable.Range(0, 300).Select(_ => outbox.EnqueueAsync("t/rest", Payload, false, OutboxPriority.Aggregate)).ToList();
        gate.Set();

        long firstSeq = await first;
        long[] seqs = await Task.WhenAll(rest);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => firstSeq + 1 + i), seqs.Order());
        // One transaction for the first request, one for the 300 queued behind it.
        Assert.Equal(2, outbox.CommitCount);
        var stored = await outbox.ReadAfterAsync(0, 1000);
        Assert.Equal(301, stored.Count);
        Assert.All(stored, m => Assert.Equal(Payload(m.Seq), m.Payload));
    }

    [Fact]
    public async Task A_request_that_fails_is_rolled_back_alone_and_the_rest_of_its_group_commits()
    {
        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir });
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var first = outbox.EnqueueAsync("t/first", s => { entered.Set(); gate.Wait(TimeSpan.FromSeconds(30)); return Payload(s); }, false, OutboxPriority.Aggregate);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
        var before = Enumerable.Range(0, 5).Select(_ => outbox.EnqueueAsync("t/ok", Payload, false, OutboxPriority.Aggregate)).ToList();
        var bad = outbox.EnqueueAsync("t/bad", _ => throw new InvalidOperationException("payload builder failed"), false, OutboxPriority.Aggregate);
        var after = Enumerable.Range(0, 5).Select(_ => outbox.EnqueueAsync("t/ok", Payload, false, OutboxPriority.Aggregate)).ToList();
        gate.Set();

        long firstSeq = await first;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal("payload builder failed", ex.Message);
        long[] ok = await Task.WhenAll(before.Concat(after));
        // No gap: the failed request's seq is not burnt, and the stored counters match the database.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => firstSeq + i), ok);
        var stored = await outbox.ReadAfterAsync(0, 100);
        Assert.Equal(ok.Prepend(firstSeq), stored.Select(m => m.Seq));
        Assert.DoesNotContain(stored, m => m.Topic == "t/bad");
        Assert.Equal(2, outbox.CommitCount); // the bad request shared its transaction with the ten good ones
        Assert.Equal(11, outbox.Count);
        Assert.Equal(stored.Sum(m => (long)m.Payload.Length), outbox.Bytes);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Every_seq_handed_back_survives_sigkill_of_a_process_enqueuing_from_many_producers()
    {
        string dll = typeof(Program).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        List<string> lines;
        using (var child = PeerProcess.Start(dotnet, [dll, "outbox-enqueue", _dir, "32"]))
        {
            await child.WaitForLineAsync(_ => child.Lines().Count(l => l.StartsWith("COMMITTED ", StringComparison.Ordinal)) >= 3000, TimeSpan.FromSeconds(60));
            child.Signal("KILL");
            Assert.True(await child.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            lines = child.Lines();
        }

        // Only whole lines count: the kill may cut the last one.
        var committed = lines.Where(l => l.StartsWith("COMMITTED ", StringComparison.Ordinal) && l.Contains(" transactions=", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(f => (Seq: long.Parse(f[1], CultureInfo.InvariantCulture), Producer: f[2], I: f[3], Transactions: long.Parse(f[4]["transactions=".Length..], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.True(committed.Count >= 3000, $"only {committed.Count} commits reported");
        // Grouped: far fewer transactions than messages.
        Assert.True(committed.Max(c => c.Transactions) < committed.Count / 2,
            $"{committed.Max(c => c.Transactions)} transactions for {committed.Count} messages: enqueues were not grouped");

        var stored = new Dictionary<long, string>();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_dir, "outbox.db")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT seq, payload FROM message";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) stored[r.GetInt64(0)] = Encoding.UTF8.GetString((byte[])r.GetValue(1));
        }
        var missing = committed.Where(c => !stored.ContainsKey(c.Seq)).Select(c => c.Seq).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} seqs handed back but not on disk after SIGKILL: {string.Join(',', missing.Take(20))}");
        foreach (var c in committed)
            Assert.Equal($"seq={c.Seq};{c.Producer};{c.I}", stored[c.Seq]);
        Assert.Equal(committed.Count, committed.Select(c => c.Seq).Distinct().Count());

        // The reopened outbox counts what is there and goes on after the highest seq.
        await using var reopened = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = _dir });
        Assert.Equal(stored.Count, reopened.Count);
        Assert.True(await reopened.EnqueueAsync("t", new byte[] { 1 }, false, OutboxPriority.Raw) > stored.Keys.Max());
    }
}
