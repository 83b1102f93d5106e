using System.Threading.Channels;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Modbus;
using EdgeCollector.Pipeline;
using EdgeCollector.Serial;
using Microsoft.Extensions.Logging;
using ConfigDataType = EdgeCollector.Core.Configuration.ModbusDataType;
using WireDataType = EdgeCollector.Modbus.ModbusDataType;

namespace EdgeCollector.Sources.Modbus;

/// <summary>
/// The <c>ModbusTcp</c>, <c>ModbusRtu</c> and <c>ModbusRtuOverTcp</c> source plugins (contracts.md §1):
/// one link per source, tags coalesced into block reads by <see cref="ModbusPoller"/>, every value
/// checked against its physical limits. Addresses in the config are wire addresses (0-based): a
/// manual's register 3204 of a PM5xxx is <c>"Address": 3203</c>.
/// </summary>
public sealed class ModbusSource : IInputSource, ISourceDiagnostics
{
    private readonly SourceConfig _config;
    private readonly ILogger _log;
    private readonly Dictionary<string, TagConfig> _tags;
    private readonly TimeProvider _time;

    public ModbusSource(SourceConfig config, ILogger log, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _config = config;
        _log = log;
        _tags = config.Tags.ToDictionary(t => t.Tag, StringComparer.Ordinal);
    }

    public string Name => _config.Name;

    public long OutOfRange { get; private set; }
    public long BadSamples { get; private set; }
    public ModbusCounters? LinkCounters { get; private set; }

    public long Connects => LinkCounters?.Connects ?? 0;

    public long Errors => BadSamples + OutOfRange + (LinkCounters is { } c ? c.Timeouts + c.BadFrames + c.DeviceExceptions : 0);

    public static ModbusTag ToWireTag(TagConfig t) => new(
        t.Tag,
        (byte)t.UnitId,
        t.Area switch
        {
            Core.Configuration.ModbusArea.Holding => global::EdgeCollector.Modbus.ModbusArea.Holding,
            Core.Configuration.ModbusArea.Input => global::EdgeCollector.Modbus.ModbusArea.Input,
            Core.Configuration.ModbusArea.Coil => global::EdgeCollector.Modbus.ModbusArea.Coil,
            _ => global::EdgeCollector.Modbus.ModbusArea.Discrete,
        },
        (ushort)t.Address,
        t.DataType switch
        {
            ConfigDataType.Int16 => WireDataType.Int16,
            ConfigDataType.UInt16 => WireDataType.UInt16,
            ConfigDataType.Int32 => WireDataType.Int32,
            ConfigDataType.UInt32 => WireDataType.UInt32,
            ConfigDataType.Int64 => WireDataType.Int64,
            ConfigDataType.UInt64 => WireDataType.UInt64,
            ConfigDataType.Float32 => WireDataType.Float32,
            ConfigDataType.Float64 => WireDataType.Float64,
            ConfigDataType.Bcd => WireDataType.Bcd16,
            ConfigDataType.Bcd32 => WireDataType.Bcd32,
            ConfigDataType.Bcd48 => WireDataType.Bcd48,
            _ => WireDataType.Bool,
        },
        Enum.Parse<ModbusWordOrder>(t.WordOrder.ToString()),
        t.Scale,
        t.Offset)
    {
        IsCounter = t.Counter is not null,
    };

    private ModbusConnection Connect()
    {
        var options = new ModbusConnectionOptions { Timeout = TimeSpan.FromMilliseconds(_config.TimeoutMs) };
        return _config.Type switch
        {
            SourceType.ModbusTcp => new ModbusTcpConnection(_config.Host!, _config.TcpPort ?? 502, options),
            SourceType.ModbusRtuOverTcp => ModbusRtuConnection.OverTcp(_config.Host!, _config.TcpPort!.Value, options),
            _ => ModbusRtuConnection.Serial(new SerialPortSettings(_config.SerialPort!, _config.Baud, _config.DataBits,
                (Serial.SerialParity)(int)_config.Parity, _config.StopBits == 2 ? SerialStopBits.Two : SerialStopBits.One), options),
        };
    }

    public async Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken)
    {
        var tags = _config.Tags.Select(ToWireTag).ToList();
        foreach (var tag in tags.Where(t => t.MetadataWarning is not null))
        {
            _log.LogWarning("{Source}: tag {Tag}: {Warning}", Name, tag.Name, tag.MetadataWarning);
        }

        await using var connection = Connect();
        LinkCounters = connection.Counters;
        var poller = new ModbusPoller(connection, tags, new ModbusPollerOptions { Interval = TimeSpan.FromMilliseconds(_config.PollMs) }, _time);
        await foreach (var cycle in poller.RunAsync(cancellationToken))
        {
            foreach (var sample in cycle)
            {
                var record = ToRecord(sample);
                await writer.WriteAsync(new SourceItem(record, Name, -1), cancellationToken);
            }
        }
    }

    private TagRecord ToRecord(ModbusSample sample)
    {
        long ticks = sample.Timestamp.UtcTicks;
        if (sample.Quality != ModbusQuality.Good || sample.Value is not double value)
        {
            BadSamples++;
            return new TagRecord(ticks, sample.Tag.Name, 0, SampleQuality.Bad);
        }

        var config = _tags[sample.Tag.Name];
        if ((config.Min is double min && value < min) || (config.MaxValue is double max && value > max))
        {
            // product.md: a value outside physical limits is a counted, logged, quality-flagged event.
            OutOfRange++;
            _log.LogWarning("{Source}: {Tag} = {Value} is outside its limits [{Min}, {Max}]: Bad", Name, sample.Tag.Name, value, config.Min, config.MaxValue);
            return new TagRecord(ticks, sample.Tag.Name, value, SampleQuality.Bad);
        }

        return new TagRecord(ticks, sample.Tag.Name, value, SampleQuality.Good);
    }
}
