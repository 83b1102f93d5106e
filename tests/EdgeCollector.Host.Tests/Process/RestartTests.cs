using System.Text.Json;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Host.Tests.Process;

/// <summary>
/// issue 2 "Restart": the collector is killed (SIGKILL) at random points while it works through the
/// sample shift, restarted on the same data dir each time, and must end with exactly what an
/// uninterrupted run publishes: every (id, rev) once or more, any duplicate byte-identical, and the
/// same heat totals.
/// </summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-restart-").FullName;

    [Fact]
    public async Task Killed_mid_heat_and_restarted_the_collector_publishes_what_an_uninterrupted_run_does()
    {
        // Four consecutive shifts: the sample shift repeated 8, 16 and 24 hours later.
        string sample = Path.Combine(CollectorProcess.RepoRoot, "config", "sample-shift.jsonl");
        string input = Path.Combine(_dir, "four-shifts.jsonl");
        var lines = File.ReadAllLines(sample);
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 4).SelectMany(k => lines.Select(l =>
        {
            var record = RecordCodec.Parse(l);
            return RecordCodec.Write(record with { Ticks = record.Ticks + k * 8 * TimeSpan.TicksPerHour });
        })));
        int total = lines.Length * 4;

        var reference = await CollectorProcess.RunAsync(_dir, "replay", "--in", input, "--out", "reference.jsonl");
        Assert.Equal(0, reference.ExitCode);
        var expected = ReadMessages(Path.Combine(_dir, "reference.jsonl"));

        string dataDir = Path.Combine(_dir, "data");
        string config = CollectorProcess.DemoConfigWithout(_dir, "Uplink");
        string[] args = ["run", "--config", config, "--until-sources-end", "--set", $"Sources:0:Path={input}", "--set", $"Storage:DataDir={dataDir}"];
        string messagesFile = Path.Combine(dataDir, "messages.jsonl");
        var rnd = new Random(Environment.TickCount);
        var targets = Enumerable.Range(0, 3).Select(_ => rnd.Next(total / 10, total * 7 / 10)).Order().ToList();
        int kills = 0;
        foreach (int target in targets)
        {
            using var p = CollectorProcess.Start(_dir, args);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!p.HasExited && CommittedPosition(dataDir) < target && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            // Then somewhere between two checkpoints: records applied but not yet committed.
            await Task.Delay(rnd.Next(0, 400));
            if (!p.HasExited)
            {
                p.Kill();
                kills++;
            }
        }

        var final = await CollectorProcess.RunAsync(_dir, args);
        Assert.True(final.ExitCode == 0, final.Stderr);
        Assert.True(kills >= 2, $"only {kills} kill(s) landed while the collector was working");

        var got = ReadMessages(messagesFile);
        var byKey = new Dictionary<(string, long), string>();
        foreach (var (key, line) in got)
        {
            if (byKey.TryGetValue(key, out var earlier))
            {
                Assert.Equal(earlier, line);   // a duplicate is byte-identical
            }

            byKey[key] = line;
        }

        var expectedByKey = expected.ToDictionary(e => e.Key, e => e.Line);
        Assert.Equal(expectedByKey.Count, byKey.Count);
        foreach (var (key, line) in expectedByKey)
        {
            Assert.True(byKey.TryGetValue(key, out var actual), $"missing message {key}");
            Assert.Equal(line, actual);
        }
    }

    /// <summary>The recording line the collector last committed (0 before its first checkpoint).</summary>
    private static long CommittedPosition(string dataDir)
    {
        string db = Path.Combine(dataDir, "engine.db");
        if (!File.Exists(db))
        {
            return 0;
        }

        try
        {
            using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COALESCE(MAX(position), 0) FROM positions";
            return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return 0;
        }
    }

    private static int CountLines(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            int n = 0;
            int b;
            while ((b = s.ReadByte()) >= 0)
            {
                if (b == '\n') n++;
            }

            return n;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Messages keyed by (id, seq) — seq is unique per published message, rev alone is not for tickets.</summary>
    private static List<((string, long) Key, string Line)> ReadMessages(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            var payload = doc.RootElement.GetProperty("payload");
            return ((payload.GetProperty("id").GetString()!, payload.GetProperty("seq").GetInt64()), l);
        }).ToList();

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
