using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using static EdgeCollector.Core.Tests.TestPlant;

namespace EdgeCollector.Core.Tests;

public class OverviewTests
{
    [Fact]
    public void The_overview_shows_the_open_heat_so_far_the_last_heats_and_the_periods_against_target()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
        long t0 = T("2026-11-21T01:00:00Z");                 // 09:00 local, day shift
        h.Sample("F1.Power", t0, 0);
        h.Load("F1-charge", At(t0, 10), 10000);              // heat 1 opens
        h.Load("F1-tap", At(t0, 1800), 9700);
        h.Sample("F1.Power", At(t0, 3600), 1000);
        h.Pick(At(t0, 3650), "F1", Material.PostConsumerUbc);
        h.Load("F1-charge", At(t0, 3700), 8000);             // closes heat 1 at 10:01:42 local, opens heat 2
        h.Sample("F1.Power", At(t0, 3720), 1020);             // heat 1 final
        h.Load("F1-charge", At(t0, 4000), 2000);
        h.Sample("F1.Power", At(t0, 4200), 1500);
        h.Run();

        var o = OverviewBuilder.Build(h.Engine);
        var f1 = Assert.Single(o.Furnaces);
        Assert.Equal("PostConsumerUbc", f1.MaterialPick);
        Assert.Equal("tickets", f1.HeatsFrom);                // no StateTag / HeatNumberTag: the page says heats follow tickets
        Assert.Null(f1.State);
        var open = f1.OpenHeat!;
        Assert.Equal(10000, open.Figures.ChargedKg);
        Assert.Equal(0, open.Figures.TappedKg);
        Assert.Null(open.Figures.MeltLossPct);               // nothing tapped yet
        Assert.True(open.Figures.ElectricityKWh > 0);
        var last = Assert.Single(f1.LastHeats);
        Assert.Equal(10000, last.Figures.ChargedKg);
        Assert.Equal(3.0, last.Figures.MeltLossPct!.Value, 1e-9);

        var year = f1.Periods.Single(p => p.Period == "year");
        Assert.Equal(20000, year.Figures.ChargedKg);
        Assert.Equal(9700, year.Figures.TappedKg);
        Assert.Equal(1500, year.Figures.ElectricityKWh, 1e-9);
        Assert.Equal(0.77, year.Figures.Target!.IntensityTCO2ePerT);
        Assert.Equal(1.5 * 0.5366 / 9.7, year.Figures.IntensityTCO2ePerT!.Value, 1e-9);
        Assert.True(year.Figures.Target.OnTrack);
        Assert.Equal(10000, year.ChargedByMaterialKg["PostConsumerUbc"]);
        var shift = f1.Periods.Single(p => p.Period == "shift");
        Assert.Null(shift.Figures.Target);
        Assert.Equal(new DateTime(2026, 11, 21, 0, 0, 0, DateTimeKind.Utc), shift.Start);   // 08:00 local
        Assert.Equal(1500, o.SitePeriods.Single(p => p.Period == "day").Figures.ElectricityKWh, 1e-9);
    }

    [Fact]
    public void A_furnace_with_PLC_signals_shows_its_state_and_heat_number()
    {
        var h = new Harness(Config([Furnace("F1", plc: true)]));
        long t0 = T("2026-11-21T01:00:00Z");
        h.Sample("F1.State", t0, 0);
        h.Sample("F1.HeatNo", t0, 41);
        h.Sample("F1.State", At(t0, 60), 2);                  // melting
        h.Sample("F1.HeatNo", At(t0, 60), 42);
        h.Run();

        var f1 = Assert.Single(OverviewBuilder.Build(h.Engine).Furnaces);
        Assert.Equal("plc", f1.HeatsFrom);
        Assert.Equal(2, f1.State);
        Assert.Equal(42, f1.HeatNumber);
    }

    [Fact]
    public void The_trend_holds_the_latest_revision_of_the_last_closed_shifts_and_days_oldest_first_as_published()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
        long t0 = T("2026-11-20T00:00:00Z");                 // 08:00 local (Asia/Shanghai), a shift start
        double kwh = 0;
        for (int minute = 0; minute <= 5 * 24 * 60; minute += 10)   // five days, 100 kWh per hour
        {
            h.Sample("F1.Power", At(t0, minute * 60.0), kwh);
            kwh += 100.0 / 6;
        }

        for (int heat = 0; heat < 10; heat++)                 // a heat every 12 h, melt loss 3 % then 4 %, ...
        {
            long start = At(t0, heat * 12 * 3600.0 + 600);
            h.Load("F1-charge", start, 10000);
            h.Load("F1-tap", At(start, 3 * 3600), 10000 - (300 + (heat % 2 * 100)));
        }

        h.Run();
        var o = OverviewBuilder.Build(h.Engine);
        var trend = Assert.Single(o.Furnaces).Trend;

        var shifts = h.Payloads("/F1/kpi/shift").GroupBy(p => p.GetProperty("window").GetProperty("start").GetString()).Select(g => g.Last()).ToList();
        Assert.True(shifts.Count > OverviewBuilder.TrendShiftCount, $"{shifts.Count} shifts published");
        var lastShifts = shifts.OrderBy(p => p.GetProperty("window").GetProperty("start").GetString(), StringComparer.Ordinal).TakeLast(OverviewBuilder.TrendShiftCount).ToList();
        Assert.Equal(OverviewBuilder.TrendShiftCount, trend.Shifts.Count);
        for (int i = 0; i < lastShifts.Count; i++)
        {
            Assert.Equal(DateTime.Parse(lastShifts[i].GetProperty("window").GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal), trend.Shifts[i].Start);
            Assert.Equal(lastShifts[i].Num("energy.electricityKWh"), trend.Shifts[i].Figures.ElectricityKWh, 1e-9);
            Assert.Equal(lastShifts[i].Num("metal.tappedKg"), trend.Shifts[i].Figures.TappedKg, 1e-9);
            if (lastShifts[i].IsNull("emissions.intensityTCO2ePerT"))
            {
                Assert.Null(trend.Shifts[i].Figures.IntensityTCO2ePerT);
            }
            else
            {
                Assert.Equal(lastShifts[i].Num("emissions.intensityTCO2ePerT"), trend.Shifts[i].Figures.IntensityTCO2ePerT!.Value, 1e-12);
            }
        }

        var days = h.Payloads("/F1/kpi/day").GroupBy(p => p.GetProperty("window").GetProperty("start").GetString()).Select(g => g.Last())
            .OrderBy(p => p.GetProperty("window").GetProperty("start").GetString(), StringComparer.Ordinal).ToList();
        Assert.Equal(days.Count, trend.Days.Count);                   // fewer than TrendDayCount days were published
        Assert.True(days.Count >= 4, $"{days.Count} days published");
        for (int i = 0; i < days.Count; i++)
        {
            Assert.Equal(days[i].Num("emissions.intensityTCO2ePerT"), trend.Days[i].Figures.IntensityTCO2ePerT!.Value, 1e-12);
            Assert.Equal(days[i].Num("target.intensityTCO2ePerT"), trend.Days[i].Figures.Target!.IntensityTCO2ePerT);
            Assert.Equal(days[i].GetProperty("target").GetProperty("onTrack").GetBoolean(), trend.Days[i].Figures.Target!.OnTrack);
        }

        Assert.Equal(trend.Days.Select(d => d.Start).Order(), trend.Days.Select(d => d.Start));
        Assert.Equal(days.Count, o.SiteTrend.Days.Count);
    }
}
