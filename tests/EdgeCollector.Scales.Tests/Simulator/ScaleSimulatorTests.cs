using EdgeCollector.Scales.Tests.Support;
using EdgeCollector.Sim.Scales;

namespace EdgeCollector.Scales.Tests.Simulator;

public sealed class ScaleSimulatorTests
{
    private static readonly decimal[] Loads = [8000m, 9000m, 8140m];

    [Fact]
    public void Scenario_rises_settles_outside_the_band_sits_exactly_and_returns_to_zero()
    {
        var samples = ScaleScenario.Loads(Loads, new ScaleScenarioOptions { FrameRateHz = 10 });

        Assert.Equal(0m, samples[0].GrossKg);
        Assert.Equal(0m, samples[^1].GrossKg);
        for (int load = 0; load < Loads.Length; load++)
        {
            var of = samples.Where(s => s.Load == load && s.Phase != ScalePhase.Zero).ToList();
            Assert.Equal(
                [ScalePhase.Rising, ScalePhase.Settling, ScalePhase.Sitting, ScalePhase.Falling],
                of.Select(s => s.Phase).Distinct());
            Assert.All(of.Where(s => s.Phase == ScalePhase.Sitting), s => Assert.Equal((Loads[load], false), (s.GrossKg, s.Motion)));
            Assert.All(of.Where(s => s.Phase is ScalePhase.Rising or ScalePhase.Settling or ScalePhase.Falling), s => Assert.True(s.Motion));
            var settling = of.Where(s => s.Phase == ScalePhase.Settling).Select(s => s.GrossKg).ToList();
            Assert.All(settling, w => Assert.InRange(Math.Abs(w - Loads[load]), 5m, 6m));
            Assert.All(settling.Zip(settling.Skip(1)), p => Assert.True(Math.Abs(p.First - p.Second) > 2m)); // no two make a stable run
        }
    }

    [Theory]
    [InlineData(ScaleProtocols.Xk3190A9)]
    [InlineData(ScaleProtocols.Xk3190A9Reversed)]
    [InlineData(ScaleProtocols.Xk3190A12)]
    [InlineData(ScaleProtocols.ToledoContinuous)]
    [InlineData(ScaleProtocols.MtSics)]
    [InlineData(ScaleProtocols.And)]
    public async Task Corrupted_stream_never_yields_a_weight_that_was_not_sent(string protocol)
    {
        var codec = ScaleProtocols.Create(protocol);
        var samples = ScaleScenario.Loads(Loads, new ScaleScenarioOptions { FrameRateHz = 20 });
        var simulator = new ScaleSimulator(codec, new ScaleSimulatorOptions { FrameRateHz = 1e6, CorruptPercent = 20, Seed = 3 });
        using var wire = new MemoryStream();

        await simulator.StreamAsync(wire, samples, CancellationToken.None);
        var frames = Wire.DecodeAll(codec, wire.ToArray(), out int rejected, out int garbage);

        var stats = simulator.Stats;
        Assert.Equal(samples.Count, stats.Frames);
        Assert.True(stats.Flipped > 0 && stats.Truncated > 0 && stats.Garbage > 0, stats.ToString());
        Assert.True(rejected + garbage > 0);

        // What was decoded is what was sent, in order, minus the damaged frames (and, for line
        // protocols, a good line that a damaged one ran into).
        var sent = samples.Select(s => (s.GrossKg, codec.HasMotionFlag ? s.Motion : (bool?)null)).ToList();
        int at = 0;
        foreach (var f in frames)
        {
            var got = (f.GrossKg!.Value, f.Motion);
            while (at < sent.Count && sent[at] != got)
            {
                at++;
            }

            Assert.True(at < sent.Count, $"{protocol}: decoded {got} was never sent (or out of order)");
            at++;
        }

        Assert.InRange(frames.Count, stats.IntactFrames - stats.Corrupted, stats.IntactFrames);
        if (protocol is ScaleProtocols.Xk3190A9 or ScaleProtocols.ToledoContinuous)
        {
            Assert.Equal(stats.IntactFrames, frames.Count); // framed with a start byte and a check: only damaged frames are lost
        }
    }
}
