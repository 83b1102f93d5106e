using EdgeCollector.Mqtt.Outbox;

namespace EdgeCollector.Mqtt.Tests.Outbox;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Observations_fall_in_the_first_bucket_whose_bound_is_not_below_them_and_buckets_are_cumulative()
    {
        var h = new LatencyHistogram([0.1, 1, 10]);
        foreach (double v in new[] { 0.05, 0.1, 0.2, 1.0, 5, 11, -3 })
        {
            h.Record(v);
        }

        Assert.Equal(7, h.Count);
        Assert.Equal(0.05 + 0.1 + 0.2 + 1.0 + 5 + 11 + 0, h.SumSeconds, 1e-9);   // a negative step counts as 0
        Assert.Equal([(0.1, 3L), (1.0, 5L), (10.0, 6L), (double.PositiveInfinity, 7L)], h.Cumulative());
    }

    [Fact]
    public void Bounds_must_increase()
    {
        Assert.Throws<ArgumentException>(() => new LatencyHistogram([1, 1]));
    }

    [Fact]
    public async Task Concurrent_recording_loses_no_observation()
    {
        var h = new LatencyHistogram();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 25_000; i++)
            {
                h.Record(i % 7 * 0.01);
            }
        })));
        Assert.Equal(100_000, h.Count);
        Assert.Equal(100_000, h.Cumulative()[^1].CumulativeCount);
    }
}
