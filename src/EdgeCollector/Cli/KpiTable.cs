using System.Globalization;
using System.Text.Json;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Cli;

/// <summary>Prints heat and shift KPIs as a fixed-width table for people (the payloads stay unrounded).</summary>
public static class KpiTable
{
    public static void Print(TextWriter w, IEnumerable<OutgoingMessage> messages)
    {
        var latest = new Dictionary<string, JsonElement>();
        foreach (var m in messages.Where(m => m.Topic.EndsWith("/kpi/heat", StringComparison.Ordinal) || m.Topic.EndsWith("/kpi/shift", StringComparison.Ordinal) || m.Topic.EndsWith("/kpi/day", StringComparison.Ordinal)))
        {
            latest[m.Id] = JsonDocument.Parse(m.Payload).RootElement;
        }

        var c = CultureInfo.InvariantCulture;
        string F(JsonElement e, string section, string name, string format, double scale = 1)
        {
            var v = e.GetProperty(section).GetProperty(name);
            return v.ValueKind == JsonValueKind.Null ? "-" : (v.GetDouble() * scale).ToString(format, c);
        }

        foreach (var kind in new[] { "heat", "shift", "day" })
        {
            var rows = latest.Values.Where(p => p.GetProperty("window").GetProperty("kind").GetString() == kind)
                .OrderBy(p => p.GetProperty("window").GetProperty("start").GetString(), StringComparer.Ordinal)
                .ThenBy(p => p.GetProperty("entity").GetString(), StringComparer.Ordinal).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            w.WriteLine();
            w.WriteLine($"{kind.ToUpperInvariant()} KPIs");
            w.WriteLine($"{"entity",-6} {"window",-24} {"charged t",10} {"tapped t",9} {"yield %",8} {"loss %",7} {"gas Nm3",9} {"kWh",9} {"Nm3/t",7} {"kWh/t",7} {"S1 t",7} {"S2 t",7} {"tCO2e/t",8} {"complete",8}");
            foreach (var p in rows)
            {
                var window = p.GetProperty("window");
                string label = kind == "heat" ? window.GetProperty("heatId").GetString()! : window.GetProperty("start").GetString()!;
                double tapped = p.GetProperty("metal").GetProperty("tappedKg").GetDouble() / 1000;
                string perT(string name) => tapped > 0 ? (p.GetProperty("energy").GetProperty(name).GetDouble() / tapped).ToString("F1", c) : "-";
                w.WriteLine($"{p.GetProperty("entity").GetString(),-6} {label,-24} {F(p, "metal", "chargedKg", "F3", 0.001),10} {F(p, "metal", "tappedKg", "F3", 0.001),9} " +
                    $"{F(p, "metal", "meltYield", "F2", 100),8} {F(p, "metal", "meltLossPct", "F2"),7} {F(p, "energy", "gasNm3", "F1"),9} {F(p, "energy", "electricityKWh", "F1"),9} " +
                    $"{perT("gasNm3"),7} {perT("electricityKWh"),7} {F(p, "emissions", "scope1TCO2e", "F3"),7} {F(p, "emissions", "scope2LocationTCO2e", "F3"),7} " +
                    $"{F(p, "emissions", "intensityTCO2ePerT", "F4"),8} {p.GetProperty("quality").GetProperty("complete").GetBoolean(),8}");
            }
        }
    }
}
