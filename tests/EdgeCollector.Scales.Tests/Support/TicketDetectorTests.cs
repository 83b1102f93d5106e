namespace EdgeCollector.Scales.Tests.Support;

/// <summary>The test-side detector must itself follow the rule, or the end-to-end tests prove nothing.</summary>
public sealed class TicketDetectorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

    private static List<Ticket> Run(params (double Seconds, decimal Kg, bool? Motion)[] readings)
    {
        var detector = new TicketDetector(zeroBandKg: 5, stableBandKg: 2, stableTime: TimeSpan.FromSeconds(2));
        foreach (var (s, kg, motion) in readings)
        {
            detector.Add(new ScaleReading("s", T0.AddSeconds(s), kg, motion));
        }

        return detector.Tickets;
    }

    [Fact]
    public void Ticket_at_the_first_reading_that_ends_a_stable_run_of_StableSeconds()
    {
        var tickets = Run((0, 0, false), (1, 8000, false), (2, 8001, false), (3, 8000, false), (4, 8002, false), (5, 8001, false));

        Assert.Equal(T0.AddSeconds(3), Assert.Single(tickets).StableAt);
        Assert.Equal(8000m, tickets[0].GrossKg);
    }

    [Fact]
    public void Motion_readings_never_make_or_start_a_stable_run()
    {
        var tickets = Run((0, 8000, true), (1, 8000, true), (2, 8000, true), (3, 8000, false), (4, 8000, false), (5, 8000, false));

        Assert.Equal(T0.AddSeconds(5), Assert.Single(tickets).StableAt);
    }

    [Fact]
    public void Spread_beyond_the_band_restarts_the_run()
    {
        var tickets = Run((0, 8000, null), (1, 8003, null), (2, 8003, null), (3, 8003, null), (4, 8001, null));

        Assert.Equal(T0.AddSeconds(3), Assert.Single(tickets).StableAt);
        Assert.Equal(8003m, tickets[0].GrossKg);
    }

    [Fact]
    public void One_ticket_per_load_until_back_within_the_zero_band()
    {
        var tickets = Run(
            (0, 8000, false), (2, 8000, false), (4, 8000, false), (6, 6, false), (8, 8000, false), (10, 8000, false),
            (11, 5, true), (12, 9000, false), (14, 9000, false));

        Assert.Equal([8000m, 9000m], tickets.Select(t => t.GrossKg));
        Assert.Equal([T0.AddSeconds(2), T0.AddSeconds(14)], tickets.Select(t => t.StableAt));
    }
}
