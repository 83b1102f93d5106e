using EdgeCollector.Core.Configuration;
using EdgeCollector.Sources.Modbus;
using EdgeCollector.Sources.OpcUa;
using EdgeCollector.Sources.Recording;
using EdgeCollector.Sources.Scale;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Pipeline;

/// <summary>Creates the source plugins a config names.</summary>
public static class SourceFactory
{
    /// <returns>The sources, and one message per source this build cannot run.</returns>
    /// <param name="time">Clock of the sources' timestamps (a sim clock in demos); the system clock when null.</param>
    public static (List<IInputSource> Sources, List<string> Errors) Create(EdgeConfig config, ILoggerFactory logs, TimeProvider? time = null)
    {
        var sources = new List<IInputSource>();
        var errors = new List<string>();
        for (int i = 0; i < config.Sources.Count; i++)
        {
            var s = config.Sources[i];
            var log = logs.CreateLogger($"EdgeCollector.Sources.{s.Name}");
            switch (s.Type)
            {
                case SourceType.Recording:
                    sources.Add(new RecordingSource(s.Name, s.Path!, log));
                    break;
                case SourceType.ModbusTcp or SourceType.ModbusRtu or SourceType.ModbusRtuOverTcp:
                    sources.Add(new ModbusSource(s, log, time));
                    break;
                case SourceType.Scale:
                    sources.Add(new ScaleSource(s, log, time));
                    break;
                case SourceType.OpcUa:
                    sources.Add(new OpcUaSource(s, log, time, pkiDir: s.PkiDir ?? Path.Combine(config.Storage.DataDir, "pki")));
                    break;
                default:
                    errors.Add($"Sources[{i}].Type: '{s.Type}' sources are not wired into this build yet");
                    break;
            }
        }

        // Operator actions (material picks, voids) always have a way in: the audit-trail inbox in the data dir.
        sources.Add(OperatorInbox.Source(config.Storage.DataDir, logs.CreateLogger("EdgeCollector.Sources.operator")));
        return (sources, errors);
    }
}
