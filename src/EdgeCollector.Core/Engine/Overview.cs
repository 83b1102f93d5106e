using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>A period's figures for the dashboard (shift, day, month- and year-to-date).</summary>
public sealed record PeriodView(string Period, DateTime Start, KpiFigures Figures, IReadOnlyDictionary<string, double> ChargedByMaterialKg, double? ScrapUseTargetT);

/// <summary>A heat as operators see it: the open one so far, or a published one (latest revision).</summary>
public sealed record HeatView(string HeatId, DateTime Start, DateTime? End, KpiFigures Figures, int Rev, bool Complete, IReadOnlyList<string> Flags);

/// <summary>A weighing ticket as operators see it (to check or void it).</summary>
public sealed record TicketView(string Id, string Scale, string Role, string? Material, double GrossKg, DateTime StableAt, string? HeatId, bool Voided);

/// <summary>A published shift or day window (latest revision) for the trend charts.</summary>
public sealed record WindowView(DateTime Start, DateTime End, KpiFigures Figures, int Rev, bool Complete, IReadOnlyList<string> Flags);

/// <summary>The recent closed shifts and days of an entity, oldest first (the dashboard's trend charts).</summary>
public sealed record TrendView(IReadOnlyList<WindowView> Shifts, IReadOnlyList<WindowView> Days);

/// <param name="HeatsFrom"><c>plc</c> when the furnace's heats follow its StateTag / HeatNumberTag, <c>tickets</c> when they follow its scale tickets (product.md).</param>
public sealed record FurnaceView(string Id, double? State, double? HeatNumber, string? MaterialPick, HeatView? OpenHeat, IReadOnlyList<HeatView> LastHeats,
    IReadOnlyList<PeriodView> Periods, IReadOnlyList<TicketView> RecentTickets, TrendView Trend, string HeatsFrom);

/// <summary>Everything the dashboard shows, built on the engine's thread and then read-only.</summary>
public sealed record OverviewSnapshot(string Site, DateTime? RecordTime, string FactorSet, IReadOnlyList<FurnaceView> Furnaces, IReadOnlyList<PeriodView> SitePeriods,
    TrendView SiteTrend);

/// <summary>Builds <see cref="OverviewSnapshot"/> from the engine (product.md "Intensity": shift, day, month- and year-to-date against the target pathway).</summary>
public static class OverviewBuilder
{
    public const int RecentHeatCount = 10;
    public const int RecentTicketCount = 12;
    public const int TrendShiftCount = 9;
    public const int TrendDayCount = 14;
    private static readonly TrendView NoTrend = new([], []);

    public static OverviewSnapshot Build(KpiEngine engine)
    {
        var m = engine.Model;
        if (!engine.Started)
        {
            return new OverviewSnapshot(m.SiteId, null, m.FactorSet, m.Furnaces.Select(f => new FurnaceView(f.Id, null, null, null, null, [], [], [], NoTrend, HeatsFrom(f))).ToList(), [], NoTrend);
        }

        var furnaces = new List<FurnaceView>();
        foreach (var f in m.Furnaces)
        {
            var state = engine.FurnaceState(f.Index);
            HeatView? open = null;
            if (engine.OpenHeat(f.Index) is var (heat, figures))
            {
                open = new HeatView(heat.Id, EngineTime.ToUtc(heat.Open), null, m.Calculator.Compute(figures, WindowKind.Heat), 0, false, []);
            }

            var last = engine.RecentHeats(f.Index, RecentHeatCount)
                .Select(p => new HeatView(p.HeatId!, EngineTime.ToUtc(p.Start), EngineTime.ToUtc(p.End), m.Calculator.Compute(p.Figures, WindowKind.Heat, p.HeelDeltaKg), p.Rev, p.Complete, p.Flags))
                .ToList();
            var tickets = engine.Tickets.Values.Where(t => t.Furnace == f.Index).OrderByDescending(t => t.StableAt).Take(RecentTicketCount)
                .Select(t => new TicketView(t.Id, t.Scale, t.Role.ToString(), t.Material is >= 0 and < Figures.UnknownMaterial ? ((Material)t.Material).ToString() : null,
                    t.GrossKg, EngineTime.ToUtc(t.StableAt), t.HeatId, t.Voided))
                .ToList();
            furnaces.Add(new FurnaceView(f.Id, state.State, state.HeatNumber, (state.Pick ?? f.DefaultMaterial)?.ToString(), open, last, Periods(engine, f.Index), tickets, Trend(engine, f.Index), HeatsFrom(f)));
        }

        return new OverviewSnapshot(m.SiteId, EngineTime.ToUtc(engine.RecordTime), m.FactorSet, furnaces, Periods(engine, m.SiteEntity), Trend(engine, m.SiteEntity));
    }

    private static string HeatsFrom(FurnaceModel f) => f.PlcHeats ? "plc" : "tickets";

    private static TrendView Trend(KpiEngine engine, int entity)
    {
        var m = engine.Model;
        List<WindowView> Windows(WindowKind kind, int count) => engine.RecentWindows(entity, kind, count)
            .OrderBy(p => p.Start)
            .Select(p => new WindowView(EngineTime.ToUtc(p.Start), EngineTime.ToUtc(p.End),
                // A day carries its year's target pathway value, as the published day message does.
                m.Calculator.Compute(p.Figures, kind, p.HeelDeltaKg, kind == WindowKind.Day ? m.Calendar.LocalYear(p.Start) : null),
                p.Rev, p.Complete, p.Flags))
            .ToList();
        return new TrendView(Windows(WindowKind.Shift, TrendShiftCount), Windows(WindowKind.Day, TrendDayCount));
    }

    private static List<PeriodView> Periods(KpiEngine engine, int entity)
    {
        var m = engine.Model;
        var cal = m.Calendar;
        long now = engine.RecordTime;
        int year = cal.LocalYear(now);
        var list = new List<PeriodView>();
        foreach (var (name, start, kind) in new[]
                 {
                     ("shift", cal.ShiftContaining(now).Start, WindowKind.Shift),
                     ("day", cal.DayContaining(now).Start, WindowKind.Day),
                     ("month", cal.MonthStart(now), WindowKind.Day),
                     ("year", cal.YearStart(now), WindowKind.Day),
                 })
        {
            var figures = engine.PeriodFigures(entity, start, now);
            // Day, month and year carry the year's target (the dashboard compares them all with it).
            var kpi = m.Calculator.Compute(figures, kind, localYear: kind == WindowKind.Day ? year : null);
            var byMaterial = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < Figures.MaterialSlots; i++)
            {
                if (figures.ChargedByMaterial[i] != 0)
                {
                    byMaterial[i == Figures.UnknownMaterial ? "Unknown" : ((Material)i).ToString()] = figures.ChargedByMaterial[i];
                }
            }

            double? scrapTarget = name == "year" && m.Targets.ScrapUseT.TryGetValue(year, out double t) ? t : null;
            list.Add(new PeriodView(name, EngineTime.ToUtc(start), kpi, byMaterial, scrapTarget));
        }

        return list;
    }
}
