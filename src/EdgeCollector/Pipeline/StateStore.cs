using EdgeCollector.Core.Engine;
using Microsoft.Data.Sqlite;

namespace EdgeCollector.Pipeline;

/// <summary>
/// The engine's durable state in SQLite (WAL): one row of engine state, the outbox of messages
/// not yet forwarded, and each source's resume position — all written in one transaction so a
/// kill at any instant leaves a consistent store (issue 2 "State that survives a restart").
/// </summary>
public sealed class StateStore : IAsyncDisposable
{
    private readonly SqliteConnection _db;

    private StateStore(SqliteConnection db) => _db = db;

    public static string PathIn(string dataDir) => Path.Combine(dataDir, "engine.db");

    public static async Task<StateStore> OpenAsync(string dataDir, CancellationToken ct = default)
    {
        Directory.CreateDirectory(dataDir);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = PathIn(dataDir), Pooling = false }.ToString());
        await db.OpenAsync(ct);
        await using var cmd = db.CreateCommand();
        cmd.CommandText = """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS engine_state (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL, record_time INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL, retain INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS positions (source TEXT PRIMARY KEY, position INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS published (id TEXT PRIMARY KEY, json BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS tickets (id TEXT PRIMARY KEY, json BLOB NOT NULL);
            """;
        await cmd.ExecuteNonQueryAsync(ct);
        return new StateStore(db);
    }

    /// <returns>The engine state (null at first start) and each source's committed position.</returns>
    public async Task<(EngineState? State, Dictionary<string, long> Positions)> LoadAsync(CancellationToken ct = default)
    {
        EngineState? state = null;
        byte[]? core = null;
        await using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT state FROM engine_state WHERE id = 1";
            if (await cmd.ExecuteScalarAsync(ct) is byte[] bytes)
            {
                core = bytes;
            }
        }

        if (core is not null)
        {
            var published = await ReadBlobsAsync("published", ct);
            var tickets = await ReadBlobsAsync("tickets", ct);
            state = KpiEngine.Restore(core, published, tickets);
        }

        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT source, position FROM positions";
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                positions[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return (state, positions);
    }

    private async Task<List<byte[]>> ReadBlobsAsync(string table, CancellationToken ct)
    {
        var rows = new List<byte[]>();
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = $"SELECT json FROM {table}";
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add((byte[])reader.GetValue(0));
        }

        return rows;
    }

    /// <summary>Commits an engine checkpoint, its new messages and source positions atomically.</summary>
    public async Task CommitAsync(Checkpoint state, long recordTime, IReadOnlyList<OutgoingMessage> messages, IReadOnlyDictionary<string, long> positions, CancellationToken ct = default)
    {
        await using var tx = (SqliteTransaction)await _db.BeginTransactionAsync(ct);
        await using (var cmd = _db.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO engine_state (id, state, record_time) VALUES (1, $s, $t) ON CONFLICT(id) DO UPDATE SET state = excluded.state, record_time = excluded.record_time";
            cmd.Parameters.AddWithValue("$s", state.Core);
            cmd.Parameters.AddWithValue("$t", recordTime);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await UpsertAsync(tx, "published", state.PublishedUpserts, state.PublishedDeletes, ct);
        await UpsertAsync(tx, "tickets", state.TicketUpserts, state.TicketDeletes, ct);

        if (messages.Count > 0)
        {
            await using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR IGNORE INTO outbox (seq, topic, payload, id, rev, retain) VALUES ($seq, $topic, $payload, $id, $rev, $retain)";
            var seq = cmd.Parameters.Add("$seq", SqliteType.Integer);
            var topic = cmd.Parameters.Add("$topic", SqliteType.Text);
            var payload = cmd.Parameters.Add("$payload", SqliteType.Blob);
            var id = cmd.Parameters.Add("$id", SqliteType.Text);
            var rev = cmd.Parameters.Add("$rev", SqliteType.Integer);
            var retain = cmd.Parameters.Add("$retain", SqliteType.Integer);
            foreach (var m in messages)
            {
                seq.Value = m.Seq;
                topic.Value = m.Topic;
                payload.Value = m.Payload;
                id.Value = m.Id;
                rev.Value = m.Rev;
                retain.Value = m.Retain ? 1 : 0;
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }

        if (positions.Count > 0)
        {
            await using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO positions (source, position) VALUES ($s, $p) ON CONFLICT(source) DO UPDATE SET position = excluded.position";
            var s = cmd.Parameters.Add("$s", SqliteType.Text);
            var p = cmd.Parameters.Add("$p", SqliteType.Integer);
            foreach (var (source, position) in positions)
            {
                s.Value = source;
                p.Value = position;
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }

        await tx.CommitAsync(ct);
    }

    private async Task UpsertAsync(SqliteTransaction tx, string table, List<KeyValuePair<string, byte[]>> upserts, List<string> deletes, CancellationToken ct)
    {
        if (upserts.Count > 0)
        {
            await using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"INSERT INTO {table} (id, json) VALUES ($id, $json) ON CONFLICT(id) DO UPDATE SET json = excluded.json";
            var id = cmd.Parameters.Add("$id", SqliteType.Text);
            var json = cmd.Parameters.Add("$json", SqliteType.Blob);
            foreach (var (key, value) in upserts)
            {
                id.Value = key;
                json.Value = value;
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }

        if (deletes.Count > 0)
        {
            await using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"DELETE FROM {table} WHERE id = $id";
            var id = cmd.Parameters.Add("$id", SqliteType.Text);
            foreach (var key in deletes)
            {
                id.Value = key;
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }
    }

    public async Task<List<StoredMessage>> PeekOutboxAsync(int max, CancellationToken ct = default)
    {
        var list = new List<StoredMessage>();
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT seq, topic, payload, id, rev, retain FROM outbox ORDER BY seq LIMIT $max";
        cmd.Parameters.AddWithValue("$max", max);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new StoredMessage(reader.GetInt64(0), reader.GetString(1), (byte[])reader.GetValue(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt32(5) != 0));
        }

        return list;
    }

    public async Task DeleteUpToAsync(long seq, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = "DELETE FROM outbox WHERE seq <= $seq";
        cmd.Parameters.AddWithValue("$seq", seq);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> OutboxDepthAsync(CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM outbox";
        return (long)(await cmd.ExecuteScalarAsync(ct) ?? 0L);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
