using EdgeCollector.Sim.Scales;

namespace EdgeCollector.Scales.Tests.EndToEnd;

/// <summary>
/// The same loads through a simulated serial-to-Ethernet converter on 127.0.0.1, which resets the
/// connection twice in the middle of loads; the collector reconnects.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RealTimeCollection.Name)]
public sealed class TcpEndToEndTests
{
    [Theory]
    [InlineData(ScaleProtocols.ToledoContinuous, ScaleDropMode.Reset)]
    [InlineData(ScaleProtocols.Xk3190A9, ScaleDropMode.Reset)]
    [InlineData(ScaleProtocols.ToledoContinuous, ScaleDropMode.Graceful)]
    public async Task Converter_dropping_the_connection_mid_load_still_gives_exactly_three_tickets(string protocol, ScaleDropMode mode)
    {
        var run = new EndToEndRun(protocol);
        await using var converter = new ScaleTcpConverter();
        // Once while the second load sits (before its ticket can be made), once while the third rises.
        int[] drops = [run.IndexOf(1, ScalePhase.Sitting) + 2, run.IndexOf(2, ScalePhase.Rising) + 2];

        await run.RunAsync(
            ScaleStreams.Tcp(converter.HostPort, TimeSpan.FromSeconds(5)),
            ct => converter.RunAsync(run.Simulator, run.Samples, drops, mode, TimeSpan.FromSeconds(10), ct),
            exactFrames: mode == ScaleDropMode.Graceful);

        run.AssertThreeExactTickets();
        Assert.Equal(2, converter.Drops);
        Assert.Equal(3, converter.Connections);
        Assert.Equal(3, run.Link.Connects);
        Assert.Equal(3, run.States.Count(s => s.State == ScaleLinkState.Disconnected)); // two drops and the stop
        // A reset may discard what was in flight; a graceful close loses nothing.
        Assert.InRange(run.Link.Frames, run.Simulator.Stats.IntactFrames - (mode == ScaleDropMode.Reset ? 6 : 0), run.Simulator.Stats.IntactFrames);
    }
}
