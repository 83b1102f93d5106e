using System.Threading.Channels;
using EdgeCollector.Scales.Tests.Support;
using EdgeCollector.Sim.Scales;

namespace EdgeCollector.Scales.Tests.EndToEnd;

/// <summary>
/// One end-to-end run: a simulated indicator streams three loads with corruption over a real link,
/// a <see cref="ScaleLink"/> reads them, and the product rule turns readings into tickets.
/// </summary>
internal sealed class EndToEndRun
{
    public static readonly decimal[] Loads = [8000m, 9000m, 8140m];
    public const decimal ZeroBandKg = 5m, StableBandKg = 2m;
    public static readonly TimeSpan StableTime = TimeSpan.FromSeconds(0.3);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public EndToEndRun(string protocol)
    {
        Codec = ScaleProtocols.Create(protocol);
        Samples = ScaleScenario.Loads(Loads, Scenario(Codec));
        Simulator = new ScaleSimulator(Codec, new ScaleSimulatorOptions { FrameRateHz = 20, CorruptPercent = 10, Seed = 11 });
    }

    public ScaleCodec Codec { get; }

    public IReadOnlyList<ScaleSample> Samples { get; }

    public ScaleSimulator Simulator { get; }

    public List<ScaleReading> Readings { get; } = [];

    public List<ScaleLinkStateChanged> States { get; } = [];

    public List<Ticket> Tickets { get; private set; } = [];

    public ScaleLinkStatistics Link { get; private set; }

    /// <summary>
    /// With a motion flag the settling swing stays inside the stable band, so only the flag keeps
    /// a ticket from being made too early (at target ± 0.5); without one, the swing is wider than
    /// the band (the weight alone must tell).
    /// </summary>
    private static ScaleScenarioOptions Scenario(ScaleCodec codec) => new()
    {
        FrameRateHz = 20,
        ZeroTime = TimeSpan.FromSeconds(0.25),
        RiseTime = TimeSpan.FromSeconds(0.25),
        SettleTime = TimeSpan.FromSeconds(0.5),
        SitTime = TimeSpan.FromSeconds(0.9),
        FallTime = TimeSpan.FromSeconds(0.2),
        SettleSwingKg = codec.HasMotionFlag ? 0.5m : 5m,
        SettleNoiseKg = codec.HasMotionFlag ? 0m : 1m,
    };

    /// <summary>First sample index of <paramref name="phase"/> in load <paramref name="load"/>.</summary>
    public int IndexOf(int load, ScalePhase phase) =>
        Samples.Select((s, i) => (s, i)).First(x => x.s.Load == load && x.s.Phase == phase).i;

    /// <summary>Runs the link over <paramref name="open"/> while <paramref name="drive"/> makes the indicator talk.</summary>
    public async Task RunAsync(Func<CancellationToken, ValueTask<Stream>> open, Func<CancellationToken, Task> drive, bool exactFrames)
    {
        var channel = Channel.CreateUnbounded<ScaleEvent>();
        var link = new ScaleLink(Codec, open, channel.Writer, new ScaleLinkOptions
        {
            Name = "charge-scale-1",
            SilenceTimeout = TimeSpan.FromSeconds(3),
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var run = link.RunAsync(cts.Token);
        try
        {
            await Wait.UntilAsync(() => link.State == ScaleLinkState.Connected, TimeSpan.FromSeconds(10), "the link to connect");
            await Wait.BoundedAsync(drive(cts.Token), Bound, "the simulator");
            if (exactFrames)
            {
                await Wait.UntilAsync(() => link.Statistics.Frames >= Simulator.Stats.IntactFrames, TimeSpan.FromSeconds(10), "every intact frame");
            }

            // Let the tail settle: no new frame for 300 ms.
            long last = -1;
            await Wait.UntilAsync(() =>
            {
                long now = link.Statistics.Frames;
                bool quiet = now == last;
                last = now;
                return quiet;
            }, TimeSpan.FromSeconds(10), "the link to go quiet");
        }
        finally
        {
            await cts.CancelAsync();
            await Wait.BoundedAsync(run, TimeSpan.FromSeconds(10), "the link to stop");
        }

        channel.Writer.TryComplete();
        await foreach (var e in channel.Reader.ReadAllAsync())
        {
            switch (e)
            {
                case ScaleReading r: Readings.Add(r); break;
                case ScaleLinkStateChanged c: States.Add(c); break;
            }
        }

        Link = link.Statistics;
        var detector = new TicketDetector(ZeroBandKg, StableBandKg, StableTime);
        foreach (var r in Readings)
        {
            detector.Add(r);
        }

        Tickets = detector.Tickets;
    }

    /// <summary>What every end-to-end run must show.</summary>
    public void AssertThreeExactTickets()
    {
        var sim = Simulator.Stats;
        string context = $"sim {sim}, link {Link}, tickets [{string.Join(", ", Tickets.Select(t => t.GrossKg))}]";

        // Exactly one ticket per load, with the exact weight: no duplicate while a load sat for
        // over three times StableSeconds, none from the settling swing.
        Assert.True(Loads.SequenceEqual(Tickets.Select(t => t.GrossKg)), context);
        Assert.All(Tickets, t => Assert.NotEqual(true, t.Reading.Motion));

        // Corruption really happened and was counted, and never reached the readings.
        Assert.True(sim.Flipped + sim.Truncated > 0 && sim.Garbage > 0, context);
        Assert.True(Link.Rejections > 0 && Link.BytesSkipped > 0, context);
        Assert.Equal(Link.Frames, Readings.Count);
        var sent = Samples.Select(s => s.GrossKg).ToHashSet();
        Assert.All(Readings, r => Assert.Contains(r.GrossKg, sent));
        Assert.All(Readings, r => Assert.Equal(Codec.HasMotionFlag, r.Motion.HasValue));

        if (Codec.HasMotionFlag)
        {
            // Control: the same readings with the motion flag stripped must give a wrong ticket for
            // at least one load (from the settling swing at target ± 0.5, which lies inside the band).
            // Otherwise the scenario did not exercise the flag and the exact tickets above prove nothing.
            var control = new TicketDetector(ZeroBandKg, StableBandKg, StableTime);
            foreach (var r in Readings)
            {
                control.Add(r with { Motion = null });
            }

            Assert.False(Loads.SequenceEqual(control.Tickets.Select(t => t.GrossKg)), $"motion flag not exercised: {context}");
        }
    }
}
