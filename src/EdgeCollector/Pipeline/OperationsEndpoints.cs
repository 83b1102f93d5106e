using System.Globalization;
using System.Text;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Sinks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EdgeCollector.Pipeline;

/// <summary>
/// <c>/healthz</c> (liveness), <c>/readyz</c> (started, sinks reachable or buffering) and
/// <c>/metrics</c> (Prometheus text format 0.0.4) on <c>Dashboard.Urls</c>. With
/// <c>Dashboard.TokenEnv</c> set, everything but <c>/healthz</c> needs <c>Authorization: Bearer …</c>.
/// </summary>
public sealed record OperatorMaterial(string Furnace, string? Material, string By);

public sealed record OperatorVoid(string Ticket, string Reason, string By);

public static class OperationsEndpoints
{
    public static void Map(WebApplication app, EdgeConfig config, Func<Collector?> collector, MqttUplink? uplink, InfluxSink? influx)
    {
        string? token = SecretResolver.Resolve(config.Dashboard.TokenEnv);
        if (token is not null)
        {
            app.Use(async (context, next) =>
            {
                // The page itself holds no data; it sends the token (from ?token=) with its requests.
                if (context.Request.Path != "/healthz" && context.Request.Path != "/"
                    && !string.Equals(context.Request.Headers.Authorization.ToString(), "Bearer " + token, StringComparison.Ordinal))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return;
                }

                await next(context);
            });
        }

        app.MapGet("/healthz", () => collector() is { Running: true } ? Results.Text("ok\n") : Results.Text("not running\n", statusCode: 503));
        app.MapGet("/readyz", () =>
        {
            var c = collector();
            if (c is not { Running: true })
            {
                return Results.Text("collector not running\n", statusCode: 503);
            }

            // A sink that is down is fine while its buffer takes the data: that is "buffering", not unready.
            var lines = new StringBuilder("ready\n");
            lines.Append(CultureInfo.InvariantCulture, $"uplink: {(uplink is null ? "jsonl file" : uplink.State == Mqtt.Client.MqttConnectionState.Connected ? "mqtt connected" : $"mqtt {uplink.State}, buffering {uplink.OutboxDepth} message(s)")}\n");
            if (influx is not null)
            {
                lines.Append(CultureInfo.InvariantCulture, $"influx: {influx.Writer.BufferedBatches} batch(es) buffered\n");
            }

            return Results.Text(lines.ToString());
        });
        app.MapGet("/api/overview", () => collector() is { Overview: { } overview } c
            ? Results.Json(View(c, overview, uplink, influx), System.Text.Json.JsonSerializerOptions.Web)
            : Results.Text("no data yet\n", statusCode: 503));
        // Server push for the dashboard: one "data:" event per new snapshot (at most one a second).
        app.MapGet("/api/stream", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            object? last = null;
            var ct = http.RequestAborted;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    if (collector() is { Overview: { } overview } c && !ReferenceEquals(overview, last))
                    {
                        last = overview;
                        string json = System.Text.Json.JsonSerializer.Serialize(View(c, overview, uplink, influx), System.Text.Json.JsonSerializerOptions.Web);
                        await http.Response.WriteAsync("data: " + json + "\n\n", ct);
                        await http.Response.Body.FlushAsync(ct);
                    }

                    await Task.Delay(100, ct);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        app.MapGet("/", () => Results.Content(DashboardPage.Value, "text/html; charset=utf-8"));
        // Operator actions go into the audited inbox like the CLI's (who, when, why); the engine applies them within a second.
        app.MapPost("/api/operator/material", async (OperatorMaterial body, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.By) || config.Furnaces.All(f => f.Id != body.Furnace))
            {
                return Results.BadRequest($"need 'by' and a furnace among {string.Join(", ", config.Furnaces.Select(f => f.Id))}");
            }

            Material? material = null;
            if (body.Material is { Length: > 0 } name)
            {
                if (!Enum.TryParse<Material>(name, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(name, out _))
                {
                    return Results.BadRequest($"material '{name}' is not one of {string.Join(", ", Enum.GetNames<Material>())}");
                }

                material = parsed;
            }

            string line = await Sources.Recording.OperatorInbox.AppendAsync(config.Storage.DataDir,
                new Core.Engine.MaterialPickRecord(DateTimeOffset.UtcNow.UtcTicks, body.Furnace, material), body.By, ct);
            return Results.Text(line + "\n");
        });
        app.MapPost("/api/operator/void", async (OperatorVoid body, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.By) || string.IsNullOrWhiteSpace(body.Ticket) || string.IsNullOrWhiteSpace(body.Reason))
            {
                return Results.BadRequest("need 'ticket', 'reason' and 'by'");
            }

            string line = await Sources.Recording.OperatorInbox.AppendAsync(config.Storage.DataDir,
                new Core.Engine.VoidRecord(DateTimeOffset.UtcNow.UtcTicks, body.Ticket, body.Reason), body.By, ct);
            return Results.Text(line + "\n");
        });
        app.MapGet("/metrics", () => Results.Text(Metrics(collector(), uplink, influx), "text/plain; version=0.0.4; charset=utf-8"));
    }

    private static readonly Lazy<string> DashboardPage = new(() =>
    {
        using var stream = typeof(OperationsEndpoints).Assembly.GetManifestResourceStream("dashboard.html")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    private static object View(Collector c, Core.Engine.OverviewSnapshot overview, MqttUplink? uplink, InfluxSink? influx)
    {
        var diagnostics = c.Diagnostics;
        var records = c.RecordsPerSource;
        return new
        {
            overview.Site,
            overview.RecordTime,
            overview.FactorSet,
            overview.Furnaces,
            overview.SitePeriods,
            overview.SiteTrend,
            Sources = c.SourceHealth().Select(s => new
            {
                Name = s.Key,
                s.Value.Connected,
                LastSampleAt = s.Value.LastSampleAt is long t ? new DateTime(t, DateTimeKind.Utc) : (DateTime?)null,
                Records = records.TryGetValue(s.Key, out long n) ? n : 0,
                Connects = diagnostics.TryGetValue(s.Key, out var d) ? d.Connects : 0,
                Errors = diagnostics.TryGetValue(s.Key, out var e) ? e.Errors : 0,
            }),
            Uplink = uplink is null ? "jsonl" : uplink.State.ToString(),
            OutboxDepth = uplink?.OutboxDepth ?? c.OutboxDepth,
            InfluxBufferedBatches = influx?.Writer.BufferedBatches,
        };
    }

    public static string Metrics(Collector? c, MqttUplink? uplink, InfluxSink? influx)
    {
        var w = new StringBuilder();
        void Metric(string name, string type, string help, IEnumerable<(string Labels, double Value)> samples)
        {
            w.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            w.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
            {
                w.Append(name).Append(labels).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        static string Label(string key, string value) => $"{{{key}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"}}";

        Metric("edgecollector_up", "gauge", "1 while the collector loop runs.", [("", c is { Running: true } ? 1 : 0)]);
        if (c is not null)
        {
            var m = c.Metrics;
            Metric("edgecollector_source_records_total", "counter", "Records received from each source.", c.RecordsPerSource.Select(s => (Label("source", s.Key), (double)s.Value)));
            var health = c.SourceHealth();
            Metric("edgecollector_source_connected", "gauge", "1 when the source delivered a usable record recently.", health.Select(h => (Label("source", h.Key), h.Value.Connected ? 1.0 : 0.0)));
            Metric("edgecollector_source_last_sample_timestamp_seconds", "gauge", "Time of the last usable record of each source.",
                health.Where(h => h.Value.LastSampleAt is not null).Select(h => (Label("source", h.Key), (h.Value.LastSampleAt!.Value - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerSecond)));
            var diagnostics = c.Diagnostics;
            Metric("edgecollector_source_connects_total", "counter", "Successful connects of each source's link (more than one: reconnects).",
                diagnostics.Select(d => (Label("source", d.Key), (double)d.Value.Connects)));
            Metric("edgecollector_source_errors_total", "counter", "Rejected frames, timeouts, Bad or out-of-range values and failed attempts per source.",
                diagnostics.Select(d => (Label("source", d.Key), (double)d.Value.Errors)));
            Metric("edgecollector_records_late_restamped_total", "counter", "Records that arrived behind engine time and were applied at engine time.", [("", m.LateRestamped)]);
            Metric("edgecollector_records_rejected_total", "counter", "Records the engine could not apply.", [("", m.BadInput)]);
            Metric("edgecollector_checkpoints_total", "counter", "State commits (engine state, messages, positions).", [("", m.Checkpoints)]);
            Metric("edgecollector_messages_forwarded_total", "counter", "Messages taken by every sink.", [("", m.MessagesForwarded)]);
            Metric("edgecollector_sink_failures_total", "counter", "Sink deliveries that failed (retried).", [("", m.SinkFailures)]);
            Metric("edgecollector_outbox_depth", "gauge", "Committed messages not yet taken by every sink.", [("", c.OutboxDepth)]);
            if (c.Engine is { } engine)
            {
                var e = engine.Counters;
                Metric("edgecollector_engine_samples_total", "counter", "Tag samples applied.", [("", e.Samples)]);
                Metric("edgecollector_engine_bad_samples_total", "counter", "Bad samples ignored.", [("", e.BadIgnored)]);
                Metric("edgecollector_engine_uncertain_samples_total", "counter", "Uncertain samples used.", [("", e.Uncertain)]);
                Metric("edgecollector_engine_unknown_inputs_total", "counter", "Samples of tags or scales the engine does not use.", [("", e.UnknownTags)]);
                Metric("edgecollector_engine_counter_events_total", "counter", "Totaliser events.",
                    [(Label("event", "spike-rejected"), e.SpikesRejected), (Label("event", "rebased"), e.Rebased), (Label("event", "reset"), e.Resets), (Label("event", "rollover"), e.Rollovers)]);
                Metric("edgecollector_engine_tickets_total", "counter", "Weighing tickets made.", [("", e.Tickets)]);
                Metric("edgecollector_engine_scale_loads_without_ticket_total", "counter", "Scale loads that returned to zero without holding stable (no ticket; windows flagged scale-load-unticketed).", [("", e.LoadsWithoutTicket)]);
                Metric("edgecollector_engine_voids_total", "counter", "Tickets voided.", [("", e.Voids)]);
                Metric("edgecollector_engine_published_total", "counter", "KPI messages published.", [("", e.Published)]);
                if (engine.Started)
                {
                    Metric("edgecollector_engine_lag_seconds", "gauge", "Wall clock minus engine record time.",
                        [("", (DateTime.UtcNow.Ticks - engine.RecordTime) / (double)TimeSpan.TicksPerSecond)]);
                }
            }
        }

        if (uplink is not null)
        {
            Metric("edgecollector_mqtt_connected", "gauge", "1 while connected to the broker.", [("", uplink.State == Mqtt.Client.MqttConnectionState.Connected ? 1 : 0)]);
            Metric("edgecollector_mqtt_outbox_depth", "gauge", "Messages in the durable MQTT outbox.", [("", uplink.OutboxDepth)]);
            var latency = uplink.PublishLatency;
            const string name = "edgecollector_publish_latency_seconds";
            w.Append("# HELP ").Append(name).Append(" From a message's commit to the MQTT outbox to the broker's PUBACK (broker outages included).\n");
            w.Append("# TYPE ").Append(name).Append(" histogram\n");
            foreach (var (le, count) in latency.Cumulative())
            {
                string bound = double.IsPositiveInfinity(le) ? "+Inf" : le.ToString("R", CultureInfo.InvariantCulture);
                w.Append(name).Append("_bucket{le=\"").Append(bound).Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            w.Append(name).Append("_sum ").Append(latency.SumSeconds.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            w.Append(name).Append("_count ").Append(latency.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (influx is not null)
        {
            Metric("edgecollector_influx_points_written_total", "counter", "Points the database accepted.", [("", influx.Writer.WrittenPoints)]);
            Metric("edgecollector_influx_points_rejected_total", "counter", "Points the database refused (4xx).", [("", influx.Writer.RejectedPoints)]);
            Metric("edgecollector_influx_points_dropped_total", "counter", "Points dropped because the disk buffer was full.", [("", influx.Writer.DroppedPoints)]);
        }

        return w.ToString();
    }
}
