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
}
