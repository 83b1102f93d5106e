using EdgeCollector.Scales.Tests.Support;
using EdgeCollector.Serial;

namespace EdgeCollector.Scales.Tests.EndToEnd;

/// <summary>
/// The simulator writes to one end of a socat pty pair through the serial port class; the
/// collector reads the other end as it would read /dev/ttyS0.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RealTimeCollection.Name)]
public sealed class PtyEndToEndTests : IDisposable
{
    private readonly SocatPtyPair _pty = new();

    public void Dispose() => _pty.Dispose();

    [Theory]
    [InlineData(ScaleProtocols.ToledoContinuous)]
    [InlineData(ScaleProtocols.Xk3190A9)]
    public async Task Three_loads_with_ten_percent_corruption_give_exactly_three_exact_tickets(string protocol)
    {
        var run = new EndToEndRun(protocol);
        var settings = new SerialPortSettings(_pty.A, 9600);

        await run.RunAsync(
            ScaleStreams.Serial(settings),
            async ct =>
            {
                await using var indicator = LinuxSerialPort.Open(new SerialPortSettings(_pty.B, 9600));
                await run.Simulator.StreamAsync(indicator, run.Samples, ct);
            },
            exactFrames: true);

        run.AssertThreeExactTickets();
        // A pty loses nothing: every frame that was not damaged arrived, and nothing else did.
        Assert.Equal(run.Simulator.Stats.IntactFrames, run.Link.Frames);
        Assert.Equal(1, run.Link.Connects);
    }
}
