using System.Threading.Channels;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using EdgeCollector.Scales;
using EdgeCollector.Serial;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sources.Scale;

/// <summary>
/// The <c>Scale</c> source plugin (contracts.md §1): a weight indicator on a serial port or behind a
/// serial-to-Ethernet converter (<c>"Tcp": "host:port"</c>). Readings go to the engine, which makes
/// the tickets (product.md "Scale tickets"); frames that failed their checks never get that far.
/// </summary>
public sealed class ScaleSource(SourceConfig config, ILogger log, TimeProvider? time = null) : IInputSource, ISourceDiagnostics
{
    public string Name => config.Name;

    public ScaleLink? Link { get; private set; }

    public long Connects => Link?.Statistics.Connects ?? 0;

    public long Errors => Link?.Statistics.Rejections ?? 0;

    public async Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken)
    {
        ScaleUnits.TryParse(config.Unit, out var unit);
        var codec = ScaleProtocols.Create(config.Protocol!, unit);
        var open = config.Tcp is { Length: > 0 } tcp
            ? ScaleStreams.Tcp(tcp)
            : ScaleStreams.Serial(new SerialPortSettings(config.SerialPort!, config.Baud, config.DataBits,
                (Serial.SerialParity)(int)config.Parity, config.StopBits == 2 ? SerialStopBits.Two : SerialStopBits.One));
        var events = Channel.CreateBounded<ScaleEvent>(1000);
        Link = new ScaleLink(codec, open, events.Writer, new ScaleLinkOptions
        {
            Name = Name,
            SilenceTimeout = TimeSpan.FromSeconds(config.SilentSeconds),
        }, time);
        var link = Link.RunAsync(cancellationToken);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
            {
                switch (e)
                {
                    case ScaleReading r:
                        await writer.WriteAsync(new SourceItem(new ScaleRecord(r.Timestamp.UtcTicks, Name, (double)r.GrossKg, r.Motion), Name, -1), cancellationToken);
                        break;
                    case ScaleLinkStateChanged s:
                        log.LogInformation("{Scale}: link {State}{Reason}", Name, s.State, s.Reason is null ? "" : ": " + s.Reason);
                        break;
                }
            }
        }
        finally
        {
            await link;
        }
    }
}
