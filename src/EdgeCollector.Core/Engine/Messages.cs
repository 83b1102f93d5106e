using System.Buffers;
using System.Text.Json;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>
/// One message the engine publishes: its topic and its payload, serialized once, so every
/// later send (MQTT outbox, JSONL file, retry after a crash) is byte-identical (contracts.md §2).
/// </summary>
public sealed record OutgoingMessage(string Topic, byte[] Payload, string Id, int Rev, long Seq, bool Retain = false);

/// <summary>Writes the contracts.md §2 payloads. Figures are written unrounded (shortest round-trip).</summary>
public static class PayloadWriter
{
    public const string KpiSchema = "edgecollector.kpi/1";
    public const string TicketSchema = "edgecollector.ticket/1";
    public const string StatusSchema = "edgecollector.status/1";

    public static string KindName(WindowKind kind) => kind switch
    {
        WindowKind.Minute => "minute",
        WindowKind.Heat => "heat",
        WindowKind.Shift => "shift",
        _ => "day",
    };

    public static byte[] Kpi(PublishedWindow w, long seq, string site, string entity, string factorSet, KpiFigures k, long producedAt)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("schema", KpiSchema);
            j.WriteString("id", w.Id);
            j.WriteNumber("rev", w.Rev);
            j.WriteNumber("seq", seq);
            j.WriteString("site", site);
            j.WriteString("entity", entity);
            j.WriteStartObject("window");
            j.WriteString("kind", KindName(w.Kind));
            j.WriteString("start", EngineTime.Format(w.Start));
            j.WriteString("end", EngineTime.Format(w.End));
            if (w.Kind == WindowKind.Heat)
            {
                j.WriteString("heatId", w.HeatId);
            }

            j.WriteEndObject();
            j.WriteStartObject("metal");
            j.WriteNumber("chargedKg", k.ChargedKg);
            j.WriteNumber("tappedKg", k.TappedKg);
            j.WriteNumber("drossKg", k.DrossKg);
            Nullable(j, "meltYield", k.MeltYield);
            Nullable(j, "meltLossPct", k.MeltLossPct);
            Nullable(j, "drossRatio", k.DrossRatio);
            j.WriteEndObject();
            j.WriteStartObject("energy");
            j.WriteNumber("gasNm3", k.GasNm3);
            j.WriteNumber("electricityKWh", k.ElectricityKWh);
            j.WriteNumber("energyGJ", k.EnergyGJ);
            j.WriteEndObject();
            j.WriteStartObject("emissions");
            j.WriteNumber("scope1TCO2e", k.Scope1TCO2e);
            j.WriteNumber("scope2LocationTCO2e", k.Scope2LocationTCO2e);
            j.WriteNumber("scope2MarketTCO2e", k.Scope2MarketTCO2e);
            Nullable(j, "intensityTCO2ePerT", k.IntensityTCO2ePerT);
            j.WriteEndObject();
            j.WriteStartObject("recycled");
            Nullable(j, "recycledPct", k.RecycledPct);
            Nullable(j, "postConsumerPct", k.PostConsumerPct);
            Nullable(j, "preConsumerPct", k.PreConsumerPct);
            j.WriteEndObject();
            if (k.Target is { } target)
            {
                j.WriteStartObject("target");
                j.WriteNumber("year", target.Year);
                j.WriteNumber("intensityTCO2ePerT", target.IntensityTCO2ePerT);
                if (target.OnTrack is bool onTrack)
                {
                    j.WriteBoolean("onTrack", onTrack);
                }
                else
                {
                    j.WriteNull("onTrack");
                }

                j.WriteEndObject();
            }
            else
            {
                j.WriteNull("target");
            }

            j.WriteStartObject("factors");
            j.WriteString("set", factorSet);
            j.WriteEndObject();
            j.WriteStartObject("quality");
            j.WriteBoolean("complete", w.Complete);
            j.WriteStartArray("flags");
            foreach (var flag in w.Flags)
            {
                j.WriteStringValue(flag);
            }

            j.WriteEndArray();
            j.WriteEndObject();
            j.WriteString("producedAt", EngineTime.Format(producedAt));
            j.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Ticket(TicketState t, string id, long seq, string site, string furnace, string? replaces, string? reason)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("schema", TicketSchema);
            j.WriteString("id", id);
            j.WriteNumber("seq", seq);
            j.WriteString("site", site);
            j.WriteString("furnace", furnace);
            j.WriteString("scale", t.Scale);
            j.WriteString("role", t.Role.ToString());
            if (t.Material is >= 0 and < Figures.UnknownMaterial)
            {
                j.WriteString("material", ((Material)t.Material).ToString());
            }
            else
            {
                j.WriteNull("material");
            }

            j.WriteNumber("grossKg", t.GrossKg);
            j.WriteNumber("netKg", t.NetKg);
            j.WriteString("stableAt", EngineTime.Format(t.StableAt));
            if (t.HeatId is null)
            {
                j.WriteNull("heatId");
            }
            else
            {
                j.WriteString("heatId", t.HeatId);
            }

            if (replaces is not null)
            {
                j.WriteString("replaces", replaces);
                j.WriteString("reason", reason);
            }

            j.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Nullable(Utf8JsonWriter j, string name, double? value)
    {
        if (value is double v)
        {
            j.WriteNumber(name, v);
        }
        else
        {
            j.WriteNull(name);
        }
    }
}
