using System.Text.Json;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Influx;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sinks;

/// <summary>
/// Raw samples and computed KPIs into InfluxDB (product.md "InfluxDB locally"), through the batching,
/// disk-buffered <see cref="InfluxWriter"/>. Series:
/// <list type="bullet">
/// <item><c>sample,tag=…,source=…,quality=… value=…</c> at the sample's time;</item>
/// <item><c>scale,scale=… grossKg=…,motion=…</c> at the reading's time;</item>
/// <item><c>kpi,site=…,entity=…,kind=… chargedKg=…,…,rev=…,complete=…</c> at the window start — a
/// corrected revision lands on the same series and time and so replaces the earlier one;</item>
/// <item><c>ticket,furnace=…,scale=…,role=… grossKg=…,netKg=…,id="…"</c> at stableAt.</item>
/// </list>
/// </summary>
public sealed class InfluxSink : IMessageSink, IRecordObserver, IAsyncDisposable
{
    private readonly InfluxWriter _writer;

    private InfluxSink(InfluxWriter writer) => _writer = writer;

    public string Name => "influx";

    public InfluxWriter Writer => _writer;

    public static InfluxSink Start(EdgeConfig config, ILogger log)
    {
        var influx = config.Storage.Influx!;
        string? secret = SecretResolver.Resolve(influx.TokenEnv);
        bool v1 = influx.Api == "v1";
        var writer = InfluxWriter.Start(new InfluxWriterOptions
        {
            Url = new Uri(influx.Url),
            Api = v1 ? InfluxApi.V1 : InfluxApi.V2,
            Org = influx.Org,
            Bucket = influx.Bucket,
            Database = influx.Database,
            Token = v1 ? null : secret,
            // v1 servers with auth take "user:password" in the secret named by TokenEnv.
            UserName = v1 && secret?.Split(':', 2) is [var user, _] ? user : null,
            Password = v1 && secret?.Split(':', 2) is [_, var password] ? password : null,
            BufferDirectory = Path.Combine(config.Storage.DataDir, "influx"),
            Log = (level, message, ex) => log.Log(level switch
            {
                InfluxLogLevel.Debug => LogLevel.Debug,
                InfluxLogLevel.Information => LogLevel.Information,
                InfluxLogLevel.Warning => LogLevel.Warning,
                _ => LogLevel.Error,
            }, ex, "influx: {Message}", message),
        });
        return new InfluxSink(writer);
    }

    public void OnRecord(InputRecord record, string source)
    {
        var time = new DateTimeOffset(record.Ticks, TimeSpan.Zero);
        switch (record)
        {
            case TagRecord t:
                _writer.Write(new InfluxPoint("sample").Tag("tag", t.Tag).Tag("source", source).Tag("quality", t.Quality.ToString())
                    .Field("value", t.Value).Timestamp(time));
                break;
            case ScaleRecord s:
                var point = new InfluxPoint("scale").Tag("scale", s.Scale).Field("grossKg", s.GrossKg).Timestamp(time);
                if (s.Motion is bool motion)
                {
                    point.Field("motion", motion);
                }

                _writer.Write(point);
                break;
        }
    }

    public Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var m in messages)
        {
            if (ToPoint(m.Payload) is { } point)
            {
                _writer.Write(point);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The line-protocol point of a KPI or ticket payload (contracts.md §2).</summary>
    public static InfluxPoint? ToPoint(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var p = doc.RootElement;
        string schema = p.GetProperty("schema").GetString()!;
        if (schema == PayloadWriter.KpiSchema)
        {
            var window = p.GetProperty("window");
            var point = new InfluxPoint("kpi")
                .Tag("site", p.GetProperty("site").GetString())
                .Tag("entity", p.GetProperty("entity").GetString())
                .Tag("kind", window.GetProperty("kind").GetString())
                .Field("rev", p.GetProperty("rev").GetInt64())
                .Field("complete", p.GetProperty("quality").GetProperty("complete").GetBoolean())
                .Timestamp(DateTimeOffset.Parse(window.GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            if (window.TryGetProperty("heatId", out var heat) && heat.ValueKind == JsonValueKind.String)
            {
                point.Field("heatId", heat.GetString()!);
            }

            foreach (var section in new[] { "metal", "energy", "emissions", "recycled" })
            {
                foreach (var f in p.GetProperty(section).EnumerateObject())
                {
                    if (f.Value.ValueKind == JsonValueKind.Number)
                    {
                        point.Field(f.Name, f.Value.GetDouble());
                    }
                }
            }

            return point;
        }

        if (schema == PayloadWriter.TicketSchema)
        {
            var point = new InfluxPoint("ticket")
                .Tag("furnace", p.GetProperty("furnace").GetString())
                .Tag("scale", p.GetProperty("scale").GetString())
                .Tag("role", p.GetProperty("role").GetString())
                .Field("id", p.GetProperty("id").GetString()!)
                .Field("grossKg", p.GetProperty("grossKg").GetDouble())
                .Field("netKg", p.GetProperty("netKg").GetDouble())
                .Timestamp(DateTimeOffset.Parse(p.GetProperty("stableAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            if (p.TryGetProperty("replaces", out var replaces))
            {
                point.Field("replaces", replaces.GetString()!);
                point.Tag("void", "true");
            }

            return point;
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.FlushAsync(TimeSpan.FromSeconds(10));
        await _writer.DisposeAsync();
    }
}
