namespace EdgeCollector.Mqtt.Outbox;

/// <summary>
/// A thread-safe latency histogram with fixed upper bounds in seconds, in the shape Prometheus exposes
/// (cumulative buckets, a sum and a count). Recording is lock-free.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Bucket bounds for publish latency: 5 ms to 1 h (a broker outage shows up in the upper buckets).</summary>
    public static readonly double[] PublishBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    private readonly double[] _bounds;
    private readonly long[] _counts;   // per bucket, not cumulative; the last one is +Inf
    private long _count;
    private long _sumMicros;

    public LatencyHistogram(double[]? bounds = null)
    {
        _bounds = bounds ?? PublishBounds;
        for (int i = 1; i < _bounds.Length; i++)
        {
            if (!(_bounds[i] > _bounds[i - 1]))
            {
                throw new ArgumentException("bucket bounds must increase", nameof(bounds));
            }
        }

        _counts = new long[_bounds.Length + 1];
    }

    /// <summary>The finite upper bounds, in seconds.</summary>
    public IReadOnlyList<double> Bounds => _bounds;

    /// <summary>Observations so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Sum of all observations, in seconds.</summary>
    public double SumSeconds => Interlocked.Read(ref _sumMicros) / 1e6;

    /// <summary>Records one observation (negative values, from a clock step, count as 0).</summary>
    public void Record(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0)
        {
            seconds = 0;
        }

        int i = Array.BinarySearch(_bounds, seconds);
        if (i < 0)
        {
            i = ~i;                      // first bound above; bounds are inclusive upper limits (le)
        }

        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumMicros, (long)Math.Round(seconds * 1e6));
        Interlocked.Increment(ref _count);
    }

    /// <summary>Cumulative counts per bound (le), the last entry being +Inf, as Prometheus exposes them.</summary>
    public (double UpperBound, long CumulativeCount)[] Cumulative()
    {
        var result = new (double, long)[_counts.Length];
        long running = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            result[i] = (i < _bounds.Length ? _bounds[i] : double.PositiveInfinity, running);
        }

        return result;
    }
}
