using System.Globalization;
using System.Threading.Channels;
using EdgeCollector.Serial;

namespace EdgeCollector.Scales;

/// <summary>What <c>edgecollector scale watch</c> reads: a serial port or a TCP converter, and a protocol.</summary>
public sealed record ScaleWatchOptions
{
    /// <summary>Config protocol name, see <see cref="ScaleProtocols.Names"/>.</summary>
    public required string Protocol { get; init; }

    /// <summary>Serial device (<c>--port</c>); exactly one of <see cref="Port"/> and <see cref="Tcp"/>.</summary>
    public string? Port { get; init; }

    /// <summary>Converter address <c>host:port</c> (<c>--tcp</c>).</summary>
    public string? Tcp { get; init; }

    /// <summary>Serial line settings (ignored for TCP).</summary>
    public int Baud { get; init; } = 9600;

    /// <summary>Data bits, 7 or 8.</summary>
    public int DataBits { get; init; } = 8;

    /// <summary>Parity.</summary>
    public SerialParity Parity { get; init; } = SerialParity.None;

    /// <summary>Unit of frames that do not state one (XK3190-A9, "=" mode).</summary>
    public ScaleUnit Unit { get; init; } = ScaleUnit.Kg;

    /// <summary>Name printed with each reading.</summary>
    public string Name { get; init; } = "scale";

    /// <summary>Silence before the scale is reported disconnected.</summary>
    public TimeSpan SilenceTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The engine of <c>edgecollector scale watch --port P|--tcp H:P --protocol X</c>: prints every
/// reading as a recorded-stream line (contracts.md §3) and every link change as a comment line.
/// </summary>
public static class ScaleWatch
{
    /// <summary>Builds the link for <paramref name="options"/> (validates them; throws <see cref="ArgumentException"/> naming the bad one).</summary>
    public static ScaleLink CreateLink(ScaleWatchOptions options, ChannelWriter<ScaleEvent> events, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Port is null) == (options.Tcp is null))
        {
            throw new ArgumentException("Give exactly one of --port and --tcp.", nameof(options));
        }

        var codec = ScaleProtocols.Create(options.Protocol, options.Unit);
        var open = options.Tcp is not null
            ? ScaleStreams.Tcp(options.Tcp)
            : ScaleStreams.Serial(new SerialPortSettings(options.Port!, options.Baud, options.DataBits, options.Parity));
        return new ScaleLink(codec, open, events, new ScaleLinkOptions { Name = options.Name, SilenceTimeout = options.SilenceTimeout }, time);
    }

    /// <summary>
    /// Reads until cancelled, writing readings to <paramref name="readings"/> and link changes and
    /// final counters to <paramref name="status"/>.
    /// </summary>
    public static async Task RunAsync(ScaleWatchOptions options, TextWriter readings, TextWriter status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentNullException.ThrowIfNull(status);
        var channel = Channel.CreateUnbounded<ScaleEvent>(new UnboundedChannelOptions { SingleReader = true });
        var link = CreateLink(options, channel.Writer);
        var run = Task.Run(async () =>
        {
            try
            {
                await link.RunAsync(cancellationToken);
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);

        await foreach (var e in channel.Reader.ReadAllAsync(CancellationToken.None))
        {
            await (e is ScaleReading r ? readings.WriteLineAsync(FormatReading(r)) : status.WriteLineAsync(Format(e)));
        }

        await run;
        var s = link.Statistics;
        await status.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"# frames {s.Frames}, readings {s.Readings}, without weight {s.FramesWithoutWeight}, rejected {s.RejectedFrames}, garbage runs {s.GarbageRuns}, bytes skipped {s.BytesSkipped}, connects {s.Connects}"));
    }

    /// <summary>A reading as a recorded-stream line: <c>{"ts": "…", "scale": "…", "grossKg": 8000.0, "motion": false}</c>.</summary>
    public static string FormatReading(ScaleReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        string motion = reading.Motion switch { true => "true", false => "false", null => "null" };
        return string.Create(CultureInfo.InvariantCulture,
            $"{{\"ts\": \"{reading.Timestamp.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\", \"scale\": \"{Escape(reading.Scale)}\", \"grossKg\": {reading.GrossKg}, \"motion\": {motion}}}");
    }

    private static string Format(ScaleEvent e) => e switch
    {
        ScaleLinkStateChanged c => string.Create(CultureInfo.InvariantCulture,
            $"# {c.Timestamp.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {c.Scale} {c.State}{(c.Reason is null ? "" : ": " + c.Reason)}"),
        _ => $"# {e}",
    };

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
