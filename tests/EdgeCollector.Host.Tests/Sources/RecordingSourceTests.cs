using System.Threading.Channels;
using EdgeCollector.Cli;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using EdgeCollector.Sources.Recording;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCollector.Host.Tests.Sources;

public sealed class RecordingSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-recsrc-").FullName;

    private static string Line(int second) => RecordCodec.Write(new TagRecord(new DateTime(2026, 11, 21, 8, 0, second, DateTimeKind.Utc).Ticks, "T", second));

    [Fact]
    public async Task A_followed_file_yields_only_whole_lines_and_picks_up_what_is_appended_later()
    {
        string path = Path.Combine(_dir, "inbox.jsonl");
        string second = Line(2);
        await File.WriteAllTextAsync(path, Line(1) + "\n" + second[..10]);   // the second line is half written
        var channel = Channel.CreateUnbounded<SourceItem>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var source = new RecordingSource("inbox", path, NullLogger.Instance, follow: true);
        Assert.False(source.IsFinite);
        var run = source.RunAsync(channel.Writer, null, cts.Token);

        var first = await channel.Reader.ReadAsync(cts.Token);
        Assert.Equal((1L, 1.0), (first.Position, ((TagRecord)first.Record).Value));
        await Task.Delay(500);
        Assert.False(channel.Reader.TryRead(out _));            // the fragment is not a record yet

        await File.AppendAllTextAsync(path, second[10..] + "\n" + Line(3) + "\n");
        var next = await channel.Reader.ReadAsync(cts.Token);
        Assert.Equal((2L, 2.0), (next.Position, ((TagRecord)next.Record).Value));
        Assert.Equal(3L, (await channel.Reader.ReadAsync(cts.Token)).Position);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task A_recording_resumes_after_its_committed_line_and_skips_malformed_lines()
    {
        string path = Path.Combine(_dir, "rec.jsonl");
        await File.WriteAllTextAsync(path, string.Join("\n", Line(1), "{broken", Line(3), Line(4)));   // no final newline
        var channel = Channel.CreateUnbounded<SourceItem>();
        var source = new RecordingSource("rec", path, NullLogger.Instance);
        await source.RunAsync(channel.Writer, resumeAfter: 1, CancellationToken.None);
        channel.Writer.Complete();
        var items = new List<SourceItem>();
        await foreach (var i in channel.Reader.ReadAllAsync())
        {
            items.Add(i);
        }

        Assert.Equal([3L, 4L], items.Select(i => i.Position));
        Assert.Equal(1, source.Rejected);
    }

    [Fact]
    public void The_record_order_buffer_sorts_within_its_window_and_restamps_stragglers()
    {
        long t0 = new DateTime(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc).Ticks;
        long s = TimeSpan.TicksPerSecond;
        var order = new RecordOrder(TimeSpan.FromSeconds(2));
        order.Add(new TagRecord(t0 + 2 * s, "B", 2));
        order.Add(new TagRecord(t0 + 1 * s, "A", 1));
        order.Add(new TagRecord(t0 + 1 * s, "A2", 1));
        Assert.Empty(order.TakeReady(t0 + 2 * s));               // nothing is 2 s old yet
        Assert.Equal(["A", "A2"], order.TakeReady(t0 + 3 * s).Select(r => ((TagRecord)r).Tag));
        Assert.Equal(["B"], order.TakeReady(t0 + 4 * s).Select(r => ((TagRecord)r).Tag));
        order.Add(new TagRecord(t0, "late", 0));                  // older than what was written
        var late = Assert.Single(order.TakeReady(long.MaxValue));
        Assert.Equal(t0 + 2 * s, late.Ticks);
        Assert.Equal(1, order.Restamped);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
