using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeCollector.Simulators.Live;

/// <summary>One compared figure of one KPI.</summary>
/// <param name="Field">e.g. <c>gasNm3</c>.</param>
/// <param name="Truth">The simulator's value (null where undefined, e.g. a yield without taps).</param>
/// <param name="Published">The collector's value.</param>
/// <param name="Tolerance">Relative tolerance.</param>
public sealed record FigureComparison(string Field, double? Truth, double? Published, double Tolerance)
{
    /// <summary>|published − truth| / |truth| (0 when both are null, +∞ when only one is).</summary>
    public double RelativeDifference => Truth is double t && Published is double p
        ? Math.Abs(p - t) / Math.Max(Math.Abs(t), 1e-12)
        : Truth is null && Published is null ? 0 : double.PositiveInfinity;

    /// <summary>Within tolerance.</summary>
    public bool Ok => RelativeDifference <= Tolerance;
}

/// <summary>A published heat or shift KPI next to its ground truth.</summary>
public sealed record KpiComparison(string Kind, string Entity, string Label, string? TruthWindow, string PublishedWindow, bool Complete, IReadOnlyList<string> Flags, int Rev, IReadOnlyList<FigureComparison> Figures)
{
    /// <summary>Every figure within tolerance.</summary>
    public bool Ok => TruthWindow is not null && Figures.All(f => f.Ok);

    /// <summary>The KPI says it may be off: incomplete or flagged with a counter event.</summary>
    public bool Flagged => !Complete || Flags.Any(f => f is "counter-reset" or "counter-spike-rejected" or "counter-rebased" or "scale-load-unticketed");
}

/// <summary>
/// Compares what a collector published (contracts.md §2 payloads, latest revision of each id)
/// with a <see cref="LivePlant"/>'s ground truth (the <c>withSiteMeters</c> figures: the live
/// config counts the aux meter as a site meter). Tolerances: masses, energy and yield 0.1 %;
/// emissions and intensity 0.5 %. Heats are matched by furnace and open time (within 60 s of
/// simulated time: the collector stamps a ticket when its frame arrives), shifts by entity and start.
/// </summary>
public sealed class TruthComparison
{
    /// <summary>Relative tolerance of masses, energy and yield.</summary>
    public const double EnergyTolerance = 0.001;

    /// <summary>Relative tolerance of emissions and intensity.</summary>
    public const double EmissionsTolerance = 0.005;

    /// <summary>Every published heat and shift KPI inside the truth's period, in window order.</summary>
    public List<KpiComparison> Kpis { get; } = [];

    /// <summary>Closed heats and shifts of the truth that were never published.</summary>
    public List<string> Unpublished { get; } = [];

    /// <summary>Scale tickets of the truth that were not published (scale, kg, stable time) and published tickets the truth does not have.</summary>
    public List<string> TicketDifferences { get; } = [];

    /// <summary>Compares; <paramref name="messages"/> are (topic, payload) pairs in publish order.</summary>
    public static TruthComparison Compare(IEnumerable<JsonElement> truth, IEnumerable<(string Topic, JsonElement Payload)> messages)
    {
        var t = truth.ToList();
        var scenario = t.First(x => x.GetProperty("kind").GetString() == "scenario");
        string end = scenario.GetProperty("end").GetString()!;
        var latest = new Dictionary<string, (string Kind, JsonElement Payload)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (topic, payload) in messages)
        {
            string kind = topic.EndsWith("/kpi/heat", StringComparison.Ordinal) ? "heat" : topic.EndsWith("/kpi/shift", StringComparison.Ordinal) ? "shift" : "";
            if (kind.Length == 0)
            {
                continue;
            }

            string id = payload.GetProperty("id").GetString()!;
            if (!latest.TryGetValue(id, out var seen))
            {
                order.Add(id);
            }

            if (!latest.ContainsKey(id) || payload.GetProperty("rev").GetInt32() >= seen.Payload.GetProperty("rev").GetInt32())
            {
                latest[id] = (kind, payload);
            }
        }

        var result = new TruthComparison();
        var heats = t.Where(x => x.GetProperty("kind").GetString() == "heat" && x.GetProperty("close").ValueKind == JsonValueKind.String).ToList();
        var shifts = t.Where(x => x.GetProperty("kind").GetString() == "shift").ToList();
        var matched = new HashSet<int>();
        foreach (var (kind, p) in order.Select(id => latest[id]))
        {
            string entity = p.GetProperty("entity").GetString()!;
            var window = p.GetProperty("window");
            string start = window.GetProperty("start").GetString()!;
            if (string.CompareOrdinal(Normal(start), Normal(end)) >= 0)
            {
                continue;   // after the simulated period: the plant holds, nothing to compare
            }

            JsonElement? match = null;
            if (kind == "heat")
            {
                double best = 60;
                foreach (var (h, i) in heats.Select((h, i) => (h, i)))
                {
                    double gap = h.GetProperty("furnace").GetString() == entity ? Math.Abs((Time(h.GetProperty("open").GetString()!) - Time(start)).TotalSeconds) : double.MaxValue;
                    if (gap <= best && !matched.Contains(i))
                    {
                        best = gap;
                        match = h;
                    }
                }

                if (match is { } m)
                {
                    matched.Add(heats.IndexOf(m));
                }
            }
            else
            {
                match = shifts.FirstOrDefault(s => s.GetProperty("entity").GetString() == entity && Normal(s.GetProperty("start").GetString()!) == Normal(start)) is { ValueKind: JsonValueKind.Object } s ? s : null;
            }

            var quality = p.GetProperty("quality");
            result.Kpis.Add(new KpiComparison(kind, entity,
                kind == "heat" ? window.GetProperty("heatId").GetString()! : start,
                match is { } tm ? (kind == "heat" ? $"{tm.GetProperty("open").GetString()} – {tm.GetProperty("close").GetString()}" : $"{tm.GetProperty("start").GetString()} – {tm.GetProperty("end").GetString()}") : null,
                $"{start} – {window.GetProperty("end").GetString()}",
                quality.GetProperty("complete").GetBoolean(),
                quality.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToList(),
                p.GetProperty("rev").GetInt32(),
                match is { } truthKpi ? Figures(truthKpi, p) : []));
        }

        var published = latest.Count == 0 ? [] : messages.Where(m => m.Topic.Contains("/ticket", StringComparison.Ordinal))
            .Select(m => m.Payload).Where(p => p.TryGetProperty("grossKg", out _))
            .GroupBy(p => p.GetProperty("id").GetString()).Select(g => g.Last()).ToList();
        var unmatched = published.ToList();
        foreach (var ticket in t.Where(x => x.GetProperty("kind").GetString() == "ticket"))
        {
            string scale = ticket.GetProperty("scale").GetString()!;
            double kg = ticket.GetProperty("kg").GetDouble();
            var at = Time(ticket.GetProperty("stableAt").GetString()!);
            int i = unmatched.FindIndex(p => p.GetProperty("scale").GetString() == scale && p.GetProperty("grossKg").GetDouble() == kg
                && Math.Abs((Time(p.GetProperty("stableAt").GetString()!) - at).TotalSeconds) < 120);
            if (i >= 0)
            {
                unmatched.RemoveAt(i);
            }
            else if (string.CompareOrdinal(Normal(ticket.GetProperty("stableAt").GetString()!), Normal(end)) < 0)
            {
                result.TicketDifferences.Add($"truth ticket not published: {scale} {kg} kg at {ticket.GetProperty("stableAt").GetString()}");
            }
        }

        foreach (var p in unmatched)
        {
            result.TicketDifferences.Add($"published ticket not in the truth: {p.GetProperty("scale").GetString()} {p.GetProperty("grossKg").GetDouble()} kg at {p.GetProperty("stableAt").GetString()}");
        }

        foreach (var (h, i) in heats.Select((h, i) => (h, i)).Where(x => !matched.Contains(x.i)))
        {
            result.Unpublished.Add($"heat {h.GetProperty("heatId").GetString()} ({h.GetProperty("open").GetString()} – {h.GetProperty("close").GetString()})");
        }

        foreach (var s in shifts.Where(s => !result.Kpis.Any(k => k.Kind == "shift" && k.Entity == s.GetProperty("entity").GetString() && Normal(k.Label) == Normal(s.GetProperty("start").GetString()!))))
        {
            result.Unpublished.Add($"shift {s.GetProperty("entity").GetString()} {s.GetProperty("start").GetString()}");
        }

        return result;
    }

    private static List<FigureComparison> Figures(JsonElement t, JsonElement p)
    {
        var list = new List<FigureComparison>();
        var tm = t.GetProperty("metal");
        var pm = p.GetProperty("metal");
        foreach (string f in new[] { "chargedKg", "tappedKg", "drossKg", "meltYield" })
        {
            list.Add(new FigureComparison(f, Number(tm, f), Number(pm, f), EnergyTolerance));
        }

        var te = t.GetProperty("withSiteMeters");
        var pe = p.GetProperty("energy");
        var ps = p.GetProperty("emissions");
        foreach (string f in new[] { "gasNm3", "electricityKWh", "energyGJ" })
        {
            list.Add(new FigureComparison(f, Number(te, f), Number(pe, f), EnergyTolerance));
        }

        list.Add(new FigureComparison("scope1TCO2e", Number(te, "scope1TCO2e"), Number(ps, "scope1TCO2e"), EmissionsTolerance));
        list.Add(new FigureComparison("scope2LocationTCO2e", Number(te, "scope2LocationTCO2e"), Number(ps, "scope2LocationTCO2e"), EmissionsTolerance));
        list.Add(new FigureComparison("intensityTCO2ePerT", Number(te, "intensityTCO2ePerT"), Number(ps, "intensityTCO2ePerT"), EmissionsTolerance));
        return list;
    }

    private static double? Number(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static DateTimeOffset Time(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static string Normal(string text) => Time(text).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads captured messages: JSON lines of <c>{"topic": …, "payload": …}</c> (the demo's <c>--out</c>)
    /// or <c>mosquitto_sub -F %j</c> output (payload as a JSON string). Unreadable lines are skipped and counted.
    /// </summary>
    public static List<(string Topic, JsonElement Payload)> ReadMessages(IEnumerable<string> lines, out int skipped)
    {
        var list = new List<(string, JsonElement)>();
        skipped = 0;
        foreach (string line in lines)
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                var root = JsonDocument.Parse(line).RootElement;
                string topic = root.GetProperty("topic").GetString()!;
                var payload = root.GetProperty("payload");
                if (payload.ValueKind == JsonValueKind.String)
                {
                    payload = JsonDocument.Parse(payload.GetString()!).RootElement;
                }

                list.Add((topic, payload.Clone()));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                skipped++;
            }
        }

        return list;
    }

    /// <summary>The comparison as a Markdown table per KPI.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var k in Kpis)
        {
            sb.Append(c, $"### {k.Kind} {k.Entity} {k.Label}\n\n");
            sb.Append(c, $"Published window {k.PublishedWindow}; truth {k.TruthWindow ?? "(none)"}; complete {k.Complete.ToString().ToLowerInvariant()}; flags [{string.Join(", ", k.Flags)}]; rev {k.Rev}.\n\n");
            sb.Append("| figure | ground truth | published | difference | tolerance |\n|---|---:|---:|---:|---:|\n");
            foreach (var f in k.Figures)
            {
                string diff = double.IsPositiveInfinity(f.RelativeDifference) ? "—" : (f.RelativeDifference * 100).ToString("0.0000", c) + " %";
                sb.Append(c, $"| {f.Field} | {Format(f.Truth)} | {Format(f.Published)} | {diff}{(f.Ok ? "" : " **over**")} | {f.Tolerance * 100:0.#} % |\n");
            }

            sb.Append('\n');
        }

        foreach (string u in Unpublished)
        {
            sb.Append(c, $"- not published: {u}\n");
        }

        return sb.ToString();

        string Format(double? v) => v is double d ? d.ToString(Math.Abs(d) >= 100 ? "0.###" : "0.######", c) : "null";
    }

    /// <summary>One line per KPI: OK, FLAGGED (may be off and says so) or WRONG.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        foreach (var k in Kpis)
        {
            var worst = k.Figures.OrderByDescending(f => f.RelativeDifference / f.Tolerance).FirstOrDefault();
            string verdict = k.Ok ? "OK" : k.Flagged ? "FLAGGED" : "WRONG";
            sb.Append(CultureInfo.InvariantCulture, $"{verdict,-7} {k.Kind,-5} {k.Entity,-4} {k.Label,-28} worst {worst?.Field ?? "-"} {(worst is null ? "" : (worst.RelativeDifference * 100).ToString("0.0000", CultureInfo.InvariantCulture) + " %")}{(k.Complete ? "" : " incomplete")}{(k.Flags.Count > 0 ? " [" + string.Join(",", k.Flags) + "]" : "")}\n");
        }

        foreach (string u in Unpublished)
        {
            sb.Append("MISSING ").Append(u).Append('\n');
        }

        foreach (var k in Kpis.Where(k => !k.Ok))
        {
            foreach (var f in k.Figures.Where(f => !f.Ok))
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {k.Kind} {k.Entity} {k.Label}: {f.Field} truth {f.Truth?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}, published {f.Published?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}\n");
            }
        }

        foreach (string d in TicketDifferences)
        {
            sb.Append("  ").Append(d).Append('\n');
        }

        return sb.ToString();
    }
}
