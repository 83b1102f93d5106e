using System.Globalization;
using System.Text.Json;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Simulators.Plant;

/// <summary>
/// The factors the ground truth is computed with (domain-defaults.md, "cn-default"), written out
/// here on purpose instead of taken from the engine, so the truth checks the engine's arithmetic.
/// </summary>
public static class TruthFactors
{
    /// <summary>Factor set name.</summary>
    public const string Set = "cn-default";

    /// <summary>Natural gas NCV, GJ/Nm3 (GB/T 32151 table C.1).</summary>
    public const double NcvGJPerNm3 = 0.038931;

    /// <summary>Natural gas carbon content, tC/TJ.</summary>
    public const double CarbonTCPerTJ = 15.3;

    /// <summary>Natural gas oxidation rate.</summary>
    public const double Oxidation = 0.99;

    /// <summary>Location-based grid factor, tCO2/MWh (national 2022).</summary>
    public const double GridTCO2PerMWh = 0.5366;

    /// <summary>GJ per kWh.</summary>
    public const double GJPerKWh = 0.0036;

    /// <summary>Scope 1: Nm3 × NCV × C / 1000 × oxidation × 44/12.</summary>
    public static double Scope1TCO2e(double nm3) => nm3 * NcvGJPerNm3 * CarbonTCPerTJ / 1000 * Oxidation * 44 / 12;

    /// <summary>Scope 2, location-based: kWh / 1000 × grid factor.</summary>
    public static double Scope2TCO2e(double kWh) => kWh / 1000 * GridTCO2PerMWh;

    /// <summary>Energy: Nm3 × NCV + kWh × 0.0036.</summary>
    public static double EnergyGJ(double nm3, double kWh) => (nm3 * NcvGJPerNm3) + (kWh * GJPerKWh);
}

/// <summary>A ticket the collector must make: one per recorded load.</summary>
public sealed record TicketTruth(string Furnace, int Heat, string HeatId, string Scale, ScaleKind Kind, Material? Material, double Kg, long StableAt);

/// <summary>Masses of a heat or window: exact sums of the settled weights the scenario put on the scales.</summary>
public sealed record MetalTruth(double ChargedKg, double TappedKg, double DrossKg, int Charges, int Taps, IReadOnlyDictionary<Material, double> ChargedByMaterialKg)
{
    /// <summary>tapped / charged, null unless both are above zero.</summary>
    public double? MeltYield => ChargedKg > 0 && TappedKg > 0 ? TappedKg / ChargedKg : null;

    /// <summary>100 × (1 − yield).</summary>
    public double? MeltLossPct => MeltYield is double y ? 100 * (1 - y) : null;

    /// <summary>dross / charged, null unless charged and tapped are above zero.</summary>
    public double? DrossRatio => ChargedKg > 0 && TappedKg > 0 ? DrossKg / ChargedKg : null;

    internal static MetalTruth Of(IEnumerable<TicketTruth> tickets)
    {
        var list = tickets.ToList();
        var byMaterial = new SortedDictionary<Material, double>();
        foreach (var t in list.Where(t => t.Kind == ScaleKind.Charge))
        {
            byMaterial[t.Material!.Value] = byMaterial.GetValueOrDefault(t.Material!.Value) + t.Kg;
        }

        return new MetalTruth(
            list.Where(t => t.Kind == ScaleKind.Charge).Sum(t => t.Kg),
            list.Where(t => t.Kind == ScaleKind.Tap).Sum(t => t.Kg),
            list.Where(t => t.Kind == ScaleKind.Dross).Sum(t => t.Kg),
            list.Count(t => t.Kind == ScaleKind.Charge),
            list.Count(t => t.Kind == ScaleKind.Tap),
            byMaterial);
    }
}

/// <summary>Energy of a heat or window and what follows from it.</summary>
public sealed record EnergyTruth(double GasNm3, double ElectricityKWh)
{
    /// <summary>Nm3 × NCV + kWh × 0.0036.</summary>
    public double EnergyGJ => TruthFactors.EnergyGJ(GasNm3, ElectricityKWh);

    /// <summary>Scope 1, tCO2e.</summary>
    public double Scope1TCO2e => TruthFactors.Scope1TCO2e(GasNm3);

    /// <summary>Scope 2 location-based, tCO2e.</summary>
    public double Scope2LocationTCO2e => TruthFactors.Scope2TCO2e(ElectricityKWh);

    /// <summary>(Scope 1 + Scope 2 location) per tonne tapped; null when nothing was tapped.</summary>
    public double? IntensityTCO2ePerT(double tappedKg) => tappedKg > 0 ? (Scope1TCO2e + Scope2LocationTCO2e) / (tappedKg / 1000) : null;
}

/// <summary>One heat: from its first charge's stableAt to the next heat's first charge's stableAt.</summary>
/// <param name="Furnace">Furnace id.</param>
/// <param name="Heat">Running heat count of the furnace (1, 2, …).</param>
/// <param name="HeatId">The id the collector gives it (product.md "Heat id").</param>
/// <param name="Open">UTC ticks of the opening charge's stableAt.</param>
/// <param name="Close">UTC ticks of the closing charge's stableAt; null while the heat is still open at the end of the period.</param>
/// <param name="Metal">Masses of the heat's tickets.</param>
/// <param name="OwnMeters">Gas and electricity of the furnace's own meters over [open, close) (or to the period end while open).</param>
/// <param name="AllocatedAuxKWh">The heat's share of the site auxiliary meter (product.md "Allocation").</param>
public sealed record HeatTruth(string Furnace, int Heat, string HeatId, long Open, long? Close, MetalTruth Metal, EnergyTruth OwnMeters, double AllocatedAuxKWh)
{
    /// <summary>What a collector with <c>Aux.PowerTotal</c> as a site meter reports for the heat.</summary>
    public EnergyTruth WithSiteMeters => OwnMeters with { ElectricityKWh = OwnMeters.ElectricityKWh + AllocatedAuxKWh };
}

/// <summary>One shift window of a furnace or of the site.</summary>
/// <param name="Entity">Furnace id or <c>site</c>.</param>
/// <param name="Start">UTC ticks of the shift start.</param>
/// <param name="End">UTC ticks of the shift end.</param>
/// <param name="Metal">Masses of the tickets stable inside the shift.</param>
/// <param name="OwnMeters">Furnace meters only (for the site: the sum over furnaces).</param>
/// <param name="AuxKWh">The auxiliary meter: a furnace's allocated share, or the site's whole consumption.</param>
public sealed record ShiftTruth(string Entity, long Start, long End, MetalTruth Metal, EnergyTruth OwnMeters, double AuxKWh)
{
    /// <summary>What a collector with <c>Aux.PowerTotal</c> as a site meter reports for the shift.</summary>
    public EnergyTruth WithSiteMeters => OwnMeters with { ElectricityKWh = OwnMeters.ElectricityKWh + AuxKWh };
}

/// <summary>
/// The ground truth of a scenario: every ticket, every heat and every shift, computed from the
/// scenario's plan (settled weights, piecewise-constant consumption), never from the engine.
/// </summary>
public sealed class GroundTruth
{
    /// <summary>Schema name of the truth file's header line.</summary>
    public const string Schema = "edgecollector.sim-truth/1";

    private readonly ScenarioOptions _o;

    private GroundTruth(ScenarioOptions options, IReadOnlyList<TicketTruth> tickets, IReadOnlyList<HeatTruth> heats, IReadOnlyList<ShiftTruth> shifts)
    {
        _o = options;
        Tickets = tickets;
        Heats = heats;
        Shifts = shifts;
    }

    /// <summary>Every ticket, per furnace in stableAt order.</summary>
    public IReadOnlyList<TicketTruth> Tickets { get; }

    /// <summary>Every heat that opened inside the period, closed or not.</summary>
    public IReadOnlyList<HeatTruth> Heats { get; }

    /// <summary>Every shift inside the period, per furnace and for the site.</summary>
    public IReadOnlyList<ShiftTruth> Shifts { get; }

    internal static GroundTruth Compute(ScenarioResult result)
    {
        var o = result.Options;
        var tz = TimeZoneInfo.FindSystemTimeZoneById(o.TimeZone);
        long start = o.Start.UtcTicks, end = o.End.UtcTicks;
        var allocated = AllocateAux(result, start, end);

        var tickets = new List<TicketTruth>();
        var heats = new List<HeatTruth>();
        foreach (var run in result.Furnaces)
        {
            var recorded = run.Weighings.Where(w => w.Recorded).OrderBy(w => w.StableAt).ToList();
            var opens = recorded.Where(w => w.Kind == ScaleKind.Charge).GroupBy(w => w.Heat).ToDictionary(g => g.Key, g => g.Min(w => w.StableAt));
            var ids = opens.ToDictionary(p => p.Key, p => HeatId(run.Id, p.Value, p.Key, tz));
            var runTickets = recorded.Select(w => new TicketTruth(run.Id, w.Heat, ids[w.Heat], w.Scale, w.Kind, w.Material, w.Kg, w.StableAt)).ToList();
            tickets.AddRange(runTickets);
            foreach (var (heat, open) in opens.OrderBy(p => p.Key))
            {
                long? close = opens.TryGetValue(heat + 1, out long next) ? next : null;
                long until = close ?? end;
                var own = runTickets.Where(t => t.Heat == heat).ToList();
                // The heat rules of product.md give a ticket to the heat open at its stableAt: the plan must agree.
                if (own.Any(t => t.StableAt < open || t.StableAt >= until))
                {
                    throw new InvalidOperationException($"{run.Id} heat {heat}: a ticket lies outside the heat's [open, close)");
                }

                heats.Add(new HeatTruth(run.Id, heat, ids[heat], open, close, MetalTruth.Of(own),
                    new EnergyTruth(run.Gas.Integrate(open, until), run.Power.Integrate(open, until)),
                    AllocatedOver(allocated[run.Index], start, open, until)));
            }
        }

        var shifts = new List<ShiftTruth>();
        foreach (var (s, e) in ShiftWindows(o, tz))
        {
            var furnaceShifts = result.Furnaces.Select(run => new ShiftTruth(run.Id, s, e,
                MetalTruth.Of(tickets.Where(t => t.Furnace == run.Id && t.StableAt >= s && t.StableAt < e)),
                new EnergyTruth(run.Gas.Integrate(s, e), run.Power.Integrate(s, e)),
                AllocatedOver(allocated[run.Index], start, s, e))).ToList();
            shifts.AddRange(furnaceShifts);
            shifts.Add(new ShiftTruth("site", s, e,
                MetalTruth.Of(tickets.Where(t => t.StableAt >= s && t.StableAt < e)),
                new EnergyTruth(furnaceShifts.Sum(x => x.OwnMeters.GasNm3), furnaceShifts.Sum(x => x.OwnMeters.ElectricityKWh)),
                result.Aux.Integrate(s, e)));
        }

        return new GroundTruth(o, tickets, heats, shifts);
    }

    /// <summary>
    /// product.md "Allocation": the auxiliary meter's consumption in each UTC minute goes to the
    /// furnaces in proportion to their own direct energy (GJ) in that minute, equally when none used any.
    /// </summary>
    private static double[][] AllocateAux(ScenarioResult result, long start, long end)
    {
        long first = start - (start % TimeSpan.TicksPerMinute);
        int minutes = (int)((end - first + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute);
        var allocated = result.Furnaces.Select(_ => new double[minutes]).ToArray();
        for (int m = 0; m < minutes; m++)
        {
            long lo = first + (m * TimeSpan.TicksPerMinute), hi = lo + TimeSpan.TicksPerMinute;
            double aux = result.Aux.Integrate(lo, hi);
            var gj = result.Furnaces.Select(r => TruthFactors.EnergyGJ(r.Gas.Integrate(lo, hi), r.Power.Integrate(lo, hi))).ToArray();
            double total = gj.Sum();
            for (int f = 0; f < gj.Length; f++)
            {
                allocated[f][m] = total > 0 ? aux * gj[f] / total : aux / gj.Length;
            }
        }

        return allocated;
    }

    /// <summary>Σ allocated minutes over [from, to), pro rata for partial minutes.</summary>
    private static double AllocatedOver(double[] perMinute, long start, long from, long to)
    {
        long first = start - (start % TimeSpan.TicksPerMinute);
        double sum = 0;
        for (int m = 0; m < perMinute.Length; m++)
        {
            long lo = Math.Max(from, first + (m * TimeSpan.TicksPerMinute));
            long hi = Math.Min(to, first + ((m + 1) * TimeSpan.TicksPerMinute));
            if (hi > lo)
            {
                sum += perMinute[m] * ((double)(hi - lo) / TimeSpan.TicksPerMinute);
            }
        }

        return sum;
    }

    /// <summary>Shift windows (local shift starts) that lie wholly inside the period.</summary>
    private static List<(long Start, long End)> ShiftWindows(ScenarioOptions o, TimeZoneInfo tz)
    {
        var starts = new SortedSet<long>();
        var firstDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(o.Start.UtcDateTime, tz)).AddDays(-1);
        var lastDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(o.End.UtcDateTime, tz)).AddDays(1);
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            foreach (var time in o.ShiftStarts)
            {
                var local = DateTime.SpecifyKind(day.ToDateTime(time), DateTimeKind.Unspecified);
                starts.Add(TimeZoneInfo.ConvertTimeToUtc(local, tz).Ticks);
            }
        }

        var list = starts.ToList();
        var shifts = new List<(long, long)>();
        for (int i = 0; i + 1 < list.Count; i++)
        {
            if (list[i] >= o.Start.UtcTicks && list[i + 1] <= o.End.UtcTicks)
            {
                shifts.Add((list[i], list[i + 1]));
            }
        }

        return shifts;
    }

    /// <summary>product.md "Heat id": <c>{furnace}-{local yyyyMMddHH of open}-{n:000}</c>.</summary>
    private static string HeatId(string furnace, long open, int n, TimeZoneInfo tz) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{furnace}-{TimeZoneInfo.ConvertTimeFromUtc(new DateTime(open, DateTimeKind.Utc), tz):yyyyMMddHH}-{n:D3}");

    /// <summary>UTC ISO-8601 with Z, milliseconds only when not a whole second (product.md "Ids").</summary>
    public static string FormatTime(long ticks)
    {
        var utc = new DateTime(ticks, DateTimeKind.Utc);
        return ticks % TimeSpan.TicksPerSecond < TimeSpan.TicksPerMillisecond
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Writes the truth as JSON lines: a <c>scenario</c> header, then every <c>ticket</c>,
    /// <c>heat</c> and <c>shift</c> line. Heat and shift lines carry <c>ownMeters</c> (a config
    /// without site meters) and <c>withSiteMeters</c> (<c>Aux.PowerTotal</c> as a site meter, allocated).
    /// </summary>
    public void Write(Stream stream)
    {
        var newline = "\n"u8.ToArray();
        void Line(Action<Utf8JsonWriter> body)
        {
            using (var j = new Utf8JsonWriter(stream))
            {
                j.WriteStartObject();
                body(j);
                j.WriteEndObject();
            }

            stream.Write(newline);
        }

        Line(j =>
        {
            j.WriteString("kind", "scenario");
            j.WriteString("schema", Schema);
            j.WriteNumber("seed", _o.Seed);
            j.WriteStartArray("furnaces");
            foreach (string id in _o.FurnaceIds)
            {
                j.WriteStringValue(id);
            }

            j.WriteEndArray();
            j.WriteString("start", FormatTime(_o.Start.UtcTicks));
            j.WriteString("end", FormatTime(_o.End.UtcTicks));
            j.WriteString("timeZone", _o.TimeZone);
            j.WriteNumber("meterReadSeconds", _o.MeterReadSeconds);
            j.WriteStartObject("factors");
            j.WriteString("set", TruthFactors.Set);
            j.WriteNumber("ncvGJPerNm3", TruthFactors.NcvGJPerNm3);
            j.WriteNumber("carbonTCPerTJ", TruthFactors.CarbonTCPerTJ);
            j.WriteNumber("oxidation", TruthFactors.Oxidation);
            j.WriteNumber("gridTCO2PerMWh", TruthFactors.GridTCO2PerMWh);
            j.WriteEndObject();
        });

        foreach (var t in Tickets)
        {
            Line(j =>
            {
                j.WriteString("kind", "ticket");
                j.WriteString("furnace", t.Furnace);
                j.WriteNumber("heat", t.Heat);
                j.WriteString("heatId", t.HeatId);
                j.WriteString("scale", t.Scale);
                j.WriteString("role", t.Kind.ToString());
                if (t.Material is { } material)
                {
                    j.WriteString("material", material.ToString());
                }
                else
                {
                    j.WriteNull("material");
                }

                j.WriteNumber("kg", t.Kg);
                j.WriteString("stableAt", FormatTime(t.StableAt));
            });
        }

        foreach (var h in Heats)
        {
            Line(j =>
            {
                j.WriteString("kind", "heat");
                j.WriteString("furnace", h.Furnace);
                j.WriteNumber("heat", h.Heat);
                j.WriteString("heatId", h.HeatId);
                j.WriteString("open", FormatTime(h.Open));
                if (h.Close is long close)
                {
                    j.WriteString("close", FormatTime(close));
                }
                else
                {
                    j.WriteNull("close");
                }

                WriteMetal(j, h.Metal);
                WriteEnergy(j, "ownMeters", h.OwnMeters, h.Metal.TappedKg, null);
                WriteEnergy(j, "withSiteMeters", h.WithSiteMeters, h.Metal.TappedKg, h.AllocatedAuxKWh);
            });
        }

        foreach (var s in Shifts)
        {
            Line(j =>
            {
                j.WriteString("kind", "shift");
                j.WriteString("entity", s.Entity);
                j.WriteString("start", FormatTime(s.Start));
                j.WriteString("end", FormatTime(s.End));
                WriteMetal(j, s.Metal);
                WriteEnergy(j, "ownMeters", s.OwnMeters, s.Metal.TappedKg, null);
                WriteEnergy(j, "withSiteMeters", s.WithSiteMeters, s.Metal.TappedKg, s.AuxKWh);
            });
        }

        stream.Flush();
    }

    private static void WriteMetal(Utf8JsonWriter j, MetalTruth m)
    {
        j.WriteStartObject("metal");
        j.WriteNumber("chargedKg", m.ChargedKg);
        j.WriteNumber("tappedKg", m.TappedKg);
        j.WriteNumber("drossKg", m.DrossKg);
        Nullable(j, "meltYield", m.MeltYield);
        Nullable(j, "meltLossPct", m.MeltLossPct);
        Nullable(j, "drossRatio", m.DrossRatio);
        j.WriteNumber("charges", m.Charges);
        j.WriteNumber("taps", m.Taps);
        j.WriteStartObject("chargedByMaterialKg");
        foreach (var (material, kg) in m.ChargedByMaterialKg)
        {
            j.WriteNumber(material.ToString(), kg);
        }

        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void WriteEnergy(Utf8JsonWriter j, string name, EnergyTruth e, double tappedKg, double? auxKWh)
    {
        j.WriteStartObject(name);
        j.WriteNumber("gasNm3", e.GasNm3);
        j.WriteNumber("electricityKWh", e.ElectricityKWh);
        if (auxKWh is double aux)
        {
            j.WriteNumber("auxKWh", aux);
        }

        j.WriteNumber("energyGJ", e.EnergyGJ);
        j.WriteNumber("scope1TCO2e", e.Scope1TCO2e);
        j.WriteNumber("scope2LocationTCO2e", e.Scope2LocationTCO2e);
        Nullable(j, "intensityTCO2ePerT", e.IntensityTCO2ePerT(tappedKg));
        Nullable(j, "gasNm3PerT", tappedKg > 0 ? e.GasNm3 / (tappedKg / 1000) : null);
        Nullable(j, "kWhPerT", tappedKg > 0 ? e.ElectricityKWh / (tappedKg / 1000) : null);
        j.WriteEndObject();
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
