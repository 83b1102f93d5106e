using EdgeCollector.Mqtt.Client;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace EdgeCollector.Mqtt.Outbox;

/// <summary>
/// Class of an outbox message. When the outbox is full, the lowest class goes first: raw data before
/// aggregates, aggregates before status. Values are stored in the database.
/// </summary>
public enum OutboxPriority
{
    /// <summary>Raw or diagnostic data: dropped first.</summary>
    Raw = 0,
    /// <summary>KPI aggregates and tickets (contracts.md §2): never dropped while raw data is stored.</summary>
    Aggregate = 1,
    /// <summary>Status messages: dropped last.</summary>
    Status = 2,
}

/// <summary>One stored message: exactly the bytes that are (re-)sent.</summary>
/// <param name="EnqueuedAtUnixMs">When the message was committed to the outbox (Unix ms, wall clock); 0 when unknown.</param>
public sealed record OutboxMessage(long Seq, string Topic, byte[] Payload, bool Retain, OutboxPriority Priority, long EnqueuedAtUnixMs = 0);

/// <summary>Settings of <see cref="MqttOutbox"/>.</summary>
public sealed class MqttOutboxOptions
{
    /// <summary>Directory that holds <c>outbox.db</c> (created when missing).</summary>
    public required string Directory { get; init; }

    /// <summary>Most messages stored at once.</summary>
    public int MaxMessages { get; init; } = 1_000_000;

    /// <summary>Most payload bytes stored at once.</summary>
    public long MaxBytes { get; init; } = 512L * 1024 * 1024;

    public MqttLogCallback? Log { get; init; }
}

/// <summary>
/// Durable MQTT outbox in SQLite (WAL, synchronous=FULL). A message is committed whole — topic, payload,
/// retain, priority and its <c>seq</c> — before it is first sent and deleted only after its PUBACK, so a
/// re-send after a reconnect or a crash is byte-identical. <c>seq</c> comes from a persisted counter and
/// never repeats across restarts.
/// <para>
/// Enqueues are group-committed: the requests of all callers waiting while one transaction commits go into the
/// next one (one fsync for all of them), and each caller's task completes only once its messages are committed.
/// So concurrent producers, or a producer with several enqueues outstanding, are not held to one fsync per
/// message; a single producer awaiting each enqueue still pays one per message (use
/// <see cref="EnqueueBatchAsync"/> there).
/// </para>
/// <para>
/// When full (<see cref="MqttOutboxOptions.MaxMessages"/> or <see cref="MqttOutboxOptions.MaxBytes"/>), the
/// oldest message of the lowest priority class present is dropped to make room; if every stored message
/// ranks above the new one, the new one is dropped instead. So aggregates are never dropped while raw data
/// is stored. Each drop is counted (<see cref="DroppedCount"/>) and logged as a warning.
/// </para>
/// </summary>
public sealed class MqttOutbox : IAsyncDisposable
{
    // Most messages one group-commit transaction takes (a bound on how long one transaction holds the database).
    private const int MaxGroupMessages = 10_000;

    private readonly SqliteConnection _db;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly MqttOutboxOptions _options;
    // Enqueue requests waiting for the commit loop (group commit).
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private Task _commitLoop = Task.CompletedTask;
    private int _disposed;
    private long _count;
    private long _bytes;
    private long _dropped;
    private long _commits;
    // False while a delete runs with synchronous=NORMAL; an enqueue transaction never begins without FULL.
    private bool _syncFull = true;

    private MqttOutbox(SqliteConnection db, MqttOutboxOptions options)
    {
        _db = db;
        _options = options;
    }

    /// <summary>Path of the database file.</summary>
    public string DatabasePath { get; private init; } = "";

    /// <summary>Messages stored now.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Payload bytes stored now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Enqueue transactions committed since the outbox was opened (each holds one or more callers' requests).</summary>
    public long CommitCount => Interlocked.Read(ref _commits);

    /// <summary>Messages dropped because the outbox was full, since it was opened.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Opens (or creates) the outbox in <see cref="MqttOutboxOptions.Directory"/>.</summary>
    public static async Task<MqttOutbox> OpenAsync(MqttOutboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        System.IO.Directory.CreateDirectory(options.Directory);
        string path = Path.Combine(options.Directory, "outbox.db");
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await db.OpenAsync(cancellationToken);
        var outbox = new MqttOutbox(db, options) { DatabasePath = path };
        await outbox.ExecAsync("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1);
            CREATE TABLE IF NOT EXISTS message (
                seq INTEGER PRIMARY KEY,
                topic TEXT NOT NULL,
                payload BLOB NOT NULL,
                retain INTEGER NOT NULL,
                priority INTEGER NOT NULL,
                enqueued_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS message_priority ON message (priority, seq);
            """, cancellationToken);
        await using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*), COALESCE(SUM(length(payload)), 0) FROM message";
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        outbox._count = r.GetInt64(0);
        outbox._bytes = r.GetInt64(1);
        outbox._commitLoop = Task.Run(outbox.CommitLoopAsync, CancellationToken.None);
        return outbox;
    }

    /// <summary>Stores a message; returns its seq once committed (or -1 when it was itself dropped because the outbox is full).</summary>
    public Task<long> EnqueueAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, OutboxPriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        byte[] bytes = payload.ToArray();
        return EnqueueOneAsync(new Entry(topic, bytes, null, retain, priority), cancellationToken);
    }

    /// <summary>
    /// Stores a message whose payload embeds its own seq (contracts.md §2 "seq"): <paramref name="buildPayload"/>
    /// is called with the seq assigned inside the same transaction. Returns the seq, or -1 when dropped.
    /// </summary>
    public Task<long> EnqueueAsync(string topic, Func<long, byte[]> buildPayload, bool retain, OutboxPriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(buildPayload);
        return EnqueueOneAsync(new Entry(topic, null, buildPayload, retain, priority), cancellationToken);
    }

    private async Task<long> EnqueueOneAsync(Entry entry, CancellationToken cancellationToken)
    {
        var seqs = await SubmitAsync(new Request([entry]), cancellationToken);
        return seqs[0];
    }

    /// <summary>
    /// Stores several messages together; returns their seqs in order (-1 for any the full outbox dropped). All or
    /// none are stored.
    /// </summary>
    public Task<long[]> EnqueueBatchAsync(IReadOnlyList<(string Topic, ReadOnlyMemory<byte> Payload, bool Retain, OutboxPriority Priority)> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var entries = new Entry[messages.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            var (topic, payload, retain, priority) = messages[i];
            ArgumentNullException.ThrowIfNull(topic);
            entries[i] = new Entry(topic, payload.ToArray(), null, retain, priority);
        }
        return SubmitAsync(new Request(entries), cancellationToken);
    }

    /// <summary>One message to store: its payload, or the function that builds it from its seq.</summary>
    private readonly record struct Entry(string Topic, byte[]? Payload, Func<long, byte[]>? Build, bool Retain, OutboxPriority Priority);

    /// <summary>One caller's enqueue (one message or a batch), completed with the seqs once its transaction has committed.</summary>
    private sealed class Request(Entry[] entries) : TaskCompletionSource<long[]>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public Entry[] Entries { get; } = entries;
        public CancellationToken CancellationToken { get; init; }
    }

    private Task<long[]> SubmitAsync(Request request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var withToken = new Request(request.Entries) { CancellationToken = cancellationToken };
        if (!_requests.Writer.TryWrite(withToken)) throw new ObjectDisposedException(nameof(MqttOutbox));
        return withToken.Task;
    }

    /// <summary>
    /// Group commit: every enqueue request waiting when the previous transaction finishes goes into the next one,
    /// so concurrent producers share one fsync instead of paying one each. A caller's task completes only after
    /// the transaction holding its messages has committed (synchronous=FULL): a seq handed out survives a crash.
    /// Each request sits in its own SAVEPOINT, so one that fails (e.g. its payload builder throws) is rolled back
    /// alone and fails alone; the others in the group still commit.
    /// </summary>
    private async Task CommitLoopAsync()
    {
        var reader = _requests.Reader;
        var group = new List<Request>();
        while (await reader.WaitToReadAsync())
        {
            int messages = 0;
            while (messages < MaxGroupMessages && reader.TryRead(out var request))
            {
                if (request.CancellationToken.IsCancellationRequested) request.TrySetCanceled(request.CancellationToken);
                else
                {
                    group.Add(request);
                    messages += request.Entries.Length;
                }
            }
            if (group.Count == 0) continue;
            try
            {
                await CommitGroupAsync(group);
            }
            catch (Exception ex)
            {
                // The whole transaction failed (disk full, I/O error): nothing of this group is stored.
                foreach (var request in group) request.TrySetException(ex);
            }
            group.Clear();
        }
    }

    private async Task CommitGroupAsync(List<Request> group)
    {
        var results = new (long[]? Seqs, Exception? Error)[group.Count];
        var drops = new List<string>();
        await _lock.WaitAsync();
        long count = _count, bytes = _bytes;
        try
        {
            if (!_syncFull)
            {
                await ExecAsync("PRAGMA synchronous=FULL", CancellationToken.None);
                _syncFull = true;
            }
            await using var tx = (SqliteTransaction)await _db.BeginTransactionAsync();
            long seq = await ScalarAsync("SELECT value FROM meta WHERE key = 'next_seq'", tx, CancellationToken.None);
            await using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO message (seq, topic, payload, retain, priority, enqueued_at) VALUES ($seq, $topic, $payload, $retain, $priority, $at)";
            var pSeq = cmd.Parameters.Add("$seq", SqliteType.Integer);
            var pTopic = cmd.Parameters.Add("$topic", SqliteType.Text);
            var pPayload = cmd.Parameters.Add("$payload", SqliteType.Blob);
            var pRetain = cmd.Parameters.Add("$retain", SqliteType.Integer);
            var pPriority = cmd.Parameters.Add("$priority", SqliteType.Integer);
            var pAt = cmd.Parameters.Add("$at", SqliteType.Integer);
            for (int r = 0; r < group.Count; r++)
            {
                var entries = group[r].Entries;
                var seqs = new long[entries.Length];
                long seqBefore = seq, countBefore = _count, bytesBefore = _bytes;
                int dropsBefore = drops.Count;
                await tx.SaveAsync("request");
                try
                {
                    for (int i = 0; i < entries.Length; i++)
                    {
                        var (topic, stored, build, retain, priority) = entries[i];
                        byte[] payload = stored ?? build!(seq);
                        if (!await MakeRoomAsync(payload.Length, priority, topic, tx, drops))
                        {
                            seqs[i] = -1;
                            continue;
                        }

                        pSeq.Value = seq;
                        pTopic.Value = topic;
                        pPayload.Value = payload;
                        pRetain.Value = retain ? 1 : 0;
                        pPriority.Value = (int)priority;
                        pAt.Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        await cmd.ExecuteNonQueryAsync();
                        seqs[i] = seq++;
                        _count++;
                        _bytes += payload.Length;
                    }
                    await tx.ReleaseAsync("request");
                    results[r] = (seqs, null);
                }
                catch (Exception ex) when (ex is not SqliteException)
                {
                    // This request alone is undone (a payload builder threw); the group goes on.
                    await tx.RollbackAsync("request");
                    await tx.ReleaseAsync("request");
                    (seq, _count, _bytes) = (seqBefore, countBefore, bytesBefore);
                    drops.RemoveRange(dropsBefore, drops.Count - dropsBefore);
                    results[r] = (null, ex);
                }
            }

            await using (var next = _db.CreateCommand())
            {
                next.Transaction = tx;
                next.CommandText = "UPDATE meta SET value = $seq WHERE key = 'next_seq'";
                next.Parameters.AddWithValue("$seq", seq);
                await next.ExecuteNonQueryAsync();
            }

            await tx.CommitAsync();
            Interlocked.Increment(ref _commits);
        }
        catch
        {
            // Rolled back: the counters go back to what the database holds.
            _count = count;
            _bytes = bytes;
            throw;
        }
        finally
        {
            _lock.Release();
        }

        // Committed: drops are real now, and every caller learns its seqs.
        foreach (string drop in drops) Drop(drop);
        for (int r = 0; r < group.Count; r++)
        {
            if (results[r].Error is { } error) group[r].TrySetException(error);
            else group[r].TrySetResult(results[r].Seqs!);
        }
    }

    /// <summary>Makes room for a message inside the transaction; drops are noted in <paramref name="drops"/> and logged once committed.</summary>
    private async Task<bool> MakeRoomAsync(int size, OutboxPriority priority, string topic, SqliteTransaction tx, List<string> drops)
    {
        if (size > _options.MaxBytes)
        {
            drops.Add($"message of {size} bytes for '{topic}' is larger than the whole outbox ({_options.MaxBytes} bytes)");
            return false;
        }
        while (_count + 1 > _options.MaxMessages || _bytes + size > _options.MaxBytes)
        {
            long victimSeq;
            int victimPriority;
            long victimSize;
            string victimTopic;
            await using (var cmd = _db.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "SELECT seq, priority, length(payload), topic FROM message ORDER BY priority, seq LIMIT 1";
                await using var r = await cmd.ExecuteReaderAsync();
                if (!await r.ReadAsync()) return true;
                (victimSeq, victimPriority, victimSize, victimTopic) = (r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetString(3));
            }
            if (victimPriority > (int)priority)
            {
                drops.Add($"new {priority} message for '{topic}' dropped: outbox full of higher-priority messages");
                return false;
            }
            await using (var del = _db.CreateCommand())
            {
                del.Transaction = tx;
                del.CommandText = "DELETE FROM message WHERE seq = $seq";
                del.Parameters.AddWithValue("$seq", victimSeq);
                await del.ExecuteNonQueryAsync();
            }
            _count--;
            _bytes -= victimSize;
            drops.Add($"outbox full: dropped {(OutboxPriority)victimPriority} message seq {victimSeq} for '{victimTopic}' to store a {priority} message");
        }
        return true;
    }

    private void Drop(string message)
    {
        long n = Interlocked.Increment(ref _dropped);
        _options.Log?.Invoke(MqttLogLevel.Warning, $"{message} (dropped so far: {n})", null);
    }

    /// <summary>The oldest stored messages with seq greater than <paramref name="afterSeq"/>, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxMessage>> ReadAfterAsync(long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT seq, topic, payload, retain, priority, enqueued_at FROM message WHERE seq > $after ORDER BY seq LIMIT $limit";
            cmd.Parameters.AddWithValue("$after", afterSeq);
            cmd.Parameters.AddWithValue("$limit", limit);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            var list = new List<OutboxMessage>();
            while (await r.ReadAsync(cancellationToken))
                list.Add(new OutboxMessage(r.GetInt64(0), r.GetString(1), (byte[])r.GetValue(2), r.GetInt64(3) != 0, (OutboxPriority)r.GetInt32(4), r.GetInt64(5)));
            return list;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Deletes acknowledged messages in one transaction, one statement per run of consecutive seqs. The delete is
    /// committed without its own fsync (synchronous=NORMAL for this transaction only; the next enqueue's FULL
    /// commit syncs the log, and a process kill loses nothing either way): only a power loss or OS crash can undo
    /// it, and then the message is sent once more with identical bytes, which at-least-once delivery allows.
    /// Inserts are always committed with FULL.
    /// </summary>
    public async Task DeleteAsync(IReadOnlyCollection<long> seqs, CancellationToken cancellationToken = default)
    {
        if (seqs.Count == 0) return;
        long[] sorted = [.. seqs];
        Array.Sort(sorted);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            _syncFull = false;
            await ExecAsync("PRAGMA synchronous=NORMAL", cancellationToken);
            long removed = 0, removedBytes = 0;
            await using (var tx = (SqliteTransaction)await _db.BeginTransactionAsync(cancellationToken))
            {
                await using var cmd = _db.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = "DELETE FROM message WHERE seq BETWEEN $first AND $last RETURNING length(payload)";
                var first = cmd.Parameters.Add("$first", SqliteType.Integer);
                var last = cmd.Parameters.Add("$last", SqliteType.Integer);
                for (int i = 0; i < sorted.Length;)
                {
                    int j = i;
                    while (j + 1 < sorted.Length && sorted[j + 1] <= sorted[j] + 1) j++;
                    first.Value = sorted[i];
                    last.Value = sorted[j];
                    await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
                    {
                        while (await r.ReadAsync(cancellationToken))
                        {
                            removed++;
                            removedBytes += r.GetInt64(0);
                        }
                    }
                    i = j + 1;
                }
                await tx.CommitAsync(cancellationToken);
            }
            Interlocked.Add(ref _count, -removed);
            Interlocked.Add(ref _bytes, -removedBytes);
        }
        finally
        {
            try
            {
                await ExecAsync("PRAGMA synchronous=FULL", CancellationToken.None);
                _syncFull = true;
            }
            catch (SqliteException)
            {
                // Left NORMAL: the next enqueue transaction sets FULL again before it begins (_syncFull).
            }
            _lock.Release();
        }
    }

    private async Task ExecAsync(string sql, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<long> ScalarAsync(string sql, SqliteTransaction tx, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Requests already accepted are still committed; new ones are refused.
        _requests.Writer.TryComplete();
        await _commitLoop;
        await _lock.WaitAsync();
        try
        {
            await _db.CloseAsync();
            await _db.DisposeAsync();
        }
        finally
        {
            _lock.Release();
        }
    }
}
