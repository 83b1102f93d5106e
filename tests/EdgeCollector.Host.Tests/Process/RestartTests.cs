using System.Text.Json;

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
        string sample = Path.Combine(CollectorProcess.RepoRoot, "config", "sample-shift.jsonl");
        var reference = await CollectorProcess.RunAsync(_dir, "replay", "--in", sample, "--out", "reference.jsonl");
        Assert.Equal(0, reference.ExitCode);
        var expected = ReadMessages(Path.Combine(_dir, "reference.jsonl"));

        string dataDir = Path.Combine(_dir, "data");
        string[] args = ["run", "--until-sources-end", "--set", $"Sources:0:Path={sample}", "--set", $"Storage:DataDir={dataDir}"];
        string messagesFile = Path.Combine(dataDir, "messages.jsonl");
        var rnd = new Random(Environment.TickCount);
        int kills = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int killAfterLines = CountLines(messagesFile) + rnd.Next(20, 400);
            using var p = CollectorProcess.Start(_dir, args);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!p.HasExited && CountLines(messagesFile) < killAfterLines && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            if (!p.HasExited)
            {
                p.Kill();
                kills++;
            }
        }

        var final = await CollectorProcess.RunAsync(_dir, args);
        Assert.True(final.ExitCode == 0, final.Stderr);
        Assert.True(kills >= 1, "the collector finished before it could be killed once");

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
