using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeCollector.Scales.Tests.Support;
using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Links;

public sealed class ScaleLinkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly ToledoContinuousCodec Toledo = new();

    private sealed class Harness : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _run;
        private readonly Task _drain;

        public Harness(Func<CancellationToken, ValueTask<Stream>> open, TimeProvider time, ScaleLinkOptions? options = null, ScaleCodec? codec = null)
        {
            var channel = Channel.CreateUnbounded<ScaleEvent>();
            Link = new ScaleLink(codec ?? Toledo, open, channel.Writer, options ?? new ScaleLinkOptions { Name = "s1" }, time);
            _run = Link.RunAsync(_cts.Token);
            _drain = Task.Run(async () =>
            {
                await foreach (var e in channel.Reader.ReadAllAsync())
                {
                    Events.Enqueue(e);
                }
            });
            Writer = channel.Writer;
        }

        public ScaleLink Link { get; }

        public ChannelWriter<ScaleEvent> Writer { get; }

        public ConcurrentQueue<ScaleEvent> Events { get; } = new();

        public List<ScaleReading> Readings => Events.OfType<ScaleReading>().ToList();

        public List<ScaleLinkStateChanged> States => Events.OfType<ScaleLinkStateChanged>().ToList();

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            await Wait.BoundedAsync(_run, Bound, "the link to stop");
            Writer.TryComplete();
            await Wait.BoundedAsync(_drain, Bound, "the events to drain");
            _cts.Dispose();
        }
    }

    [Fact]
    public async Task Frames_split_anyhow_with_garbage_and_corruption_give_the_right_readings_and_counts()
    {
        var stream = new ChunkStream();
        var time = new ManualTimeProvider();
        var good = Toledo.Encode(ScaleFrame.Gross(8000m, false));
        var moving = Toledo.Encode(ScaleFrame.Gross(7990m, true));
        var flipped = (byte[])good.Clone();
        flipped[6] ^= 0x01;
        var all = Concat(moving, Ascii("garbage!"), good, flipped, good[..7], good, Hex("00 FF"), moving);
        await using var h = new Harness(_ => ValueTask.FromResult<Stream>(stream), time);

        for (int i = 0; i < all.Length; i += 5)
        {
            stream.Feed(all[i..Math.Min(i + 5, all.Length)]);
        }

        await Wait.UntilAsync(() => h.Readings.Count == 4, Bound, "four readings");
        Assert.Equal([7990m, 8000m, 8000m, 7990m], h.Readings.Select(r => r.GrossKg));
        Assert.Equal([true, false, false, true], h.Readings.Select(r => r.Motion));
        Assert.All(h.Readings, r => Assert.Equal("s1", r.Scale));
        Assert.All(h.Readings, r => Assert.Equal(time.GetUtcNow(), r.Timestamp));
        var s = h.Link.Statistics;
        Assert.Equal(4, s.Frames);
        Assert.Equal(2, s.RejectedFrames); // flipped digit (checksum), truncated frame
        Assert.Equal(2, s.GarbageRuns); // "garbage!", 00 FF
        Assert.Equal(8 + 18 + 7 + 2, s.BytesSkipped); // a rejected frame is skipped up to the next STX
        Assert.Equal(4, s.Rejections);
        Assert.Equal(ScaleLinkState.Connected, h.Link.State);
    }

    [Fact]
    public async Task Silent_scale_is_reported_disconnected_and_connected_again_when_frames_return()
    {
        var stream = new ChunkStream();
        var time = new ManualTimeProvider();
        var options = new ScaleLinkOptions { Name = "s1", SilenceTimeout = TimeSpan.FromSeconds(2) };
        await using var h = new Harness(_ => ValueTask.FromResult<Stream>(stream), time, options);
        stream.Feed(Toledo.Encode(ScaleFrame.Gross(100m, false)));
        await Wait.UntilAsync(() => h.Readings.Count == 1, Bound, "a reading");

        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(ScaleLinkState.Connected, h.Link.State);
        // Garbage is not a sign of life.
        stream.Feed(Ascii("noise"));
        await Wait.UntilAsync(() => h.Link.Statistics.GarbageRuns == 1, Bound, "the garbage");
        time.Advance(TimeSpan.FromSeconds(0.6));
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Silent, Bound, "silent");

        stream.Feed(Toledo.Encode(ScaleFrame.Gross(100m, false)));
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Connected && h.Readings.Count == 2, Bound, "connected again");
        Assert.Equal(
            [ScaleLinkState.Connecting, ScaleLinkState.Connected, ScaleLinkState.Silent, ScaleLinkState.Connected],
            h.States.Select(e => e.State));
        Assert.Contains("no valid frame for 2 s", h.States[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lost_link_is_reopened_after_back_off_that_doubles_up_to_the_maximum()
    {
        var time = new ManualTimeProvider();
        int opens = 0;
        var options = new ScaleLinkOptions { Name = "s1", ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromMilliseconds(400) };
        await using var h = new Harness(_ =>
        {
            Interlocked.Increment(ref opens);
            throw new IOException("connection refused");
        }, time, options);

        // Expected waits after each failure: 100, 200, 400, 400 ms.
        foreach (int waitMs in new[] { 100, 200, 400, 400 })
        {
            int before = Volatile.Read(ref opens);
            await Wait.UntilAsync(() => time.PendingTimers >= 2, Bound, "the back-off timer"); // silence timer + delay
            time.Advance(TimeSpan.FromMilliseconds(waitMs - 1));
            await Task.Delay(50);
            Assert.Equal(before, Volatile.Read(ref opens));
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Wait.UntilAsync(() => Volatile.Read(ref opens) == before + 1, Bound, $"reopen after {waitMs} ms");
        }

        await Wait.UntilAsync(() => h.States.Count(e => e.State == ScaleLinkState.Disconnected) >= 4, Bound, "four disconnect events");
        var disconnected = h.States.Where(e => e.State == ScaleLinkState.Disconnected).ToList();
        Assert.All(disconnected, e => Assert.Contains("connection refused", e.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Back_off_starts_afresh_after_a_link_that_delivered_frames_even_if_it_ended_in_an_error()
    {
        var time = new ManualTimeProvider();
        var good = new ChunkStream();
        int opens = 0;
        var options = new ScaleLinkOptions { Name = "s1", ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(10) };
        await using var h = new Harness(_ => Interlocked.Increment(ref opens) == 3
            ? ValueTask.FromResult<Stream>(good)
            : throw new IOException("connection refused"), time, options);

        foreach (int waitMs in new[] { 100, 200 })
        {
            int before = Volatile.Read(ref opens);
            await Wait.UntilAsync(() => time.PendingTimers >= 2, Bound, "the back-off timer");
            time.Advance(TimeSpan.FromMilliseconds(waitMs));
            await Wait.UntilAsync(() => Volatile.Read(ref opens) == before + 1, Bound, $"reopen after {waitMs} ms");
        }

        good.Feed(Toledo.Encode(ScaleFrame.Gross(5m, false)));
        await Wait.UntilAsync(() => h.Readings.Count == 1, Bound, "a reading");
        good.Fail(new IOException("connection reset by peer"));
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Disconnected && time.PendingTimers >= 2, Bound, "the reset");

        time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Delay(50);
        Assert.Equal(3, Volatile.Read(ref opens));
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Wait.UntilAsync(() => Volatile.Read(ref opens) == 4, Bound, "reopen after 100 ms, not 400");
        await Wait.UntilAsync(() => h.States.Any(e => e.Reason?.Contains("connection reset by peer", StringComparison.Ordinal) == true), Bound, "the reason");
    }

    [Fact]
    public async Task End_of_stream_reconnects_and_reading_goes_on()
    {
        var streams = new[] { new ChunkStream(), new ChunkStream() };
        var time = new ManualTimeProvider();
        int opens = 0;
        await using var h = new Harness(_ => ValueTask.FromResult<Stream>(streams[Math.Min(Interlocked.Increment(ref opens) - 1, 1)]), time);
        streams[0].Feed(Concat(Toledo.Encode(ScaleFrame.Gross(1m, false)), Toledo.Encode(ScaleFrame.Gross(2m, false))[..9]));
        streams[0].End();
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Disconnected && time.PendingTimers >= 2, Bound, "disconnect");
        Assert.True(streams[0].Disposed);

        time.Advance(TimeSpan.FromMilliseconds(500));
        await Wait.UntilAsync(() => Volatile.Read(ref opens) == 2 && h.Link.State == ScaleLinkState.Connected, Bound, "reconnect");
        streams[1].Feed(Toledo.Encode(ScaleFrame.Gross(3m, false)));
        await Wait.UntilAsync(() => h.Readings.Count == 2, Bound, "reading after reconnect");

        Assert.Equal([1m, 3m], h.Readings.Select(r => r.GrossKg));
        Assert.Equal(2, h.Link.Statistics.Connects);
        Assert.Contains(h.States, e => e.State == ScaleLinkState.Disconnected && e.Reason == "end of stream");
    }

    [Fact]
    public async Task Link_silent_past_ReopenAfterSilence_is_closed_and_reopened()
    {
        var streams = new[] { new ChunkStream(), new ChunkStream() };
        var time = new ManualTimeProvider();
        int opens = 0;
        var options = new ScaleLinkOptions { Name = "s1", SilenceTimeout = TimeSpan.FromSeconds(2), ReopenAfterSilence = TimeSpan.FromSeconds(4) };
        await using var h = new Harness(_ => ValueTask.FromResult<Stream>(streams[Math.Min(Interlocked.Increment(ref opens) - 1, 1)]), time, options);
        streams[0].Feed(Toledo.Encode(ScaleFrame.Gross(1m, false)));
        await Wait.UntilAsync(() => h.Readings.Count == 1, Bound, "a reading");

        time.Advance(TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Silent, Bound, "silent");
        Assert.Equal(1, Volatile.Read(ref opens));
        time.Advance(TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(() => h.Link.State == ScaleLinkState.Disconnected && time.PendingTimers >= 2, Bound, "closed");
        Assert.True(streams[0].Disposed);
        time.Advance(TimeSpan.FromMilliseconds(500));
        await Wait.UntilAsync(() => Volatile.Read(ref opens) == 2 && h.States.Count == 6, Bound, "reopened");

        Assert.Equal(
            [ScaleLinkState.Connecting, ScaleLinkState.Connected, ScaleLinkState.Silent, ScaleLinkState.Disconnected, ScaleLinkState.Connecting, ScaleLinkState.Connected],
            h.States.Select(e => e.State));
        Assert.Equal("no valid frame for 4 s: reopening", h.States[3].Reason);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScaleLinkOptions { Name = "x", SilenceTimeout = TimeSpan.FromSeconds(5), ReopenAfterSilence = TimeSpan.FromSeconds(1) }.Validate());
    }

    [Fact]
    public async Task Frames_without_gross_weight_are_counted_but_are_not_readings()
    {
        var stream = new ChunkStream();
        await using var h = new Harness(_ => ValueTask.FromResult<Stream>(stream), new ManualTimeProvider(), codec: new AndCodec());
        stream.Feed(Ascii("OL,GS,+9999999Ekg\r\nST,NT,+00010.00kg\r\nST,GS,+00012.00kg\r\n"));

        await Wait.UntilAsync(() => h.Link.Statistics.Frames == 3 && h.Readings.Count == 1, Bound, "three frames");
        Assert.Equal(12.00m, Assert.Single(h.Readings).GrossKg);
        Assert.Equal(2, h.Link.Statistics.FramesWithoutWeight);
    }

    [Theory]
    [InlineData("10.0.0.7:4001", "10.0.0.7", 4001)]
    [InlineData("converter.local:23", "converter.local", 23)]
    [InlineData("[::1]:4001", "::1", 4001)]
    [InlineData(" 127.0.0.1:502 ", "127.0.0.1", 502)]
    public void Host_port_parses(string text, string host, int port)
    {
        Assert.True(ScaleStreams.TryParseHostPort(text, out var h, out var p));
        Assert.Equal((host, port), (h, p));
    }

    [Theory]
    [InlineData("")]
    [InlineData("host")]
    [InlineData("host:")]
    [InlineData(":4001")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("::1:4001")]
    [InlineData("host:40a1")]
    public void Bad_host_port_is_refused(string text)
    {
        Assert.False(ScaleStreams.TryParseHostPort(text, out _, out _));
        Assert.Throws<FormatException>(() => ScaleStreams.Tcp(text));
    }

    [Fact]
    public void Watch_prints_readings_as_recorded_stream_lines()
    {
        var t = new DateTimeOffset(2026, 11, 21, 8, 0, 2, TimeSpan.Zero);

        Assert.Equal("{\"ts\": \"2026-11-21T08:00:02.000Z\", \"scale\": \"charge-scale-1\", \"grossKg\": 8000.0, \"motion\": false}",
            ScaleWatch.FormatReading(new ScaleReading("charge-scale-1", t, 8000.0m, false)));
        Assert.Equal("{\"ts\": \"2026-11-21T08:00:02.000Z\", \"scale\": \"s\", \"grossKg\": 1560, \"motion\": null}",
            ScaleWatch.FormatReading(new ScaleReading("s", t, 1560m, null)));
    }

    [Fact]
    public void Watch_needs_exactly_one_of_port_and_tcp()
    {
        var channel = Channel.CreateUnbounded<ScaleEvent>();
        Assert.Throws<ArgumentException>(() => ScaleWatch.CreateLink(new ScaleWatchOptions { Protocol = "AND" }, channel.Writer));
        Assert.Throws<ArgumentException>(() => ScaleWatch.CreateLink(new ScaleWatchOptions { Protocol = "AND", Port = "/dev/ttyS0", Tcp = "h:1" }, channel.Writer));
        Assert.Throws<ArgumentException>(() => ScaleWatch.CreateLink(new ScaleWatchOptions { Protocol = "XK3190-A7", Tcp = "h:1" }, channel.Writer));
        Assert.NotNull(ScaleWatch.CreateLink(new ScaleWatchOptions { Protocol = "MT-SICS", Tcp = "127.0.0.1:1" }, channel.Writer));
    }
}
