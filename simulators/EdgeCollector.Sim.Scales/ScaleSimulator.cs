using EdgeCollector.Scales;

namespace EdgeCollector.Sim.Scales;

/// <summary>Options of a simulated weight indicator.</summary>
public sealed record ScaleSimulatorOptions
{
    /// <summary>Frames per second (XK3190-A9 sends about 10, Toledo IND-series up to 20).</summary>
    public double FrameRateHz { get; init; } = 20;

    /// <summary>Percentage of frames damaged on the way out (see <see cref="ScaleCorruptor"/>).</summary>
    public double CorruptPercent { get; init; }

    /// <summary>Seed of the corruption.</summary>
    public int Seed { get; init; } = 7;
}

/// <summary>What a simulator has sent so far.</summary>
/// <param name="Frames">Frames sent (damaged or not).</param>
/// <param name="Flipped">Frames sent with a flipped byte.</param>
/// <param name="Truncated">Frames cut short.</param>
/// <param name="Garbage">Frames sent after random bytes.</param>
public readonly record struct ScaleSimulatorStats(int Frames, int Flipped, int Truncated, int Garbage)
{
    /// <summary>Frames a correct driver decodes: every frame except flipped and truncated ones.</summary>
    public int IntactFrames => Frames - Flipped - Truncated;

    /// <summary>All damaged frames.</summary>
    public int Corrupted => Flipped + Truncated + Garbage;
}

/// <summary>
/// A weight indicator in continuous-output mode: encodes readings with the production codec
/// (the same one the driver decodes with) and writes them to any stream at a fixed frame rate.
/// </summary>
public sealed class ScaleSimulator
{
    private readonly ScaleCodec _codec;
    private readonly ScaleSimulatorOptions _options;
    private readonly ScaleCorruptor _corruptor;
    private int _frames, _flipped, _truncated, _garbage;

    /// <summary>Creates the simulator for <paramref name="codec"/>.</summary>
    public ScaleSimulator(ScaleCodec codec, ScaleSimulatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        _codec = codec;
        _options = options ?? new ScaleSimulatorOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.FrameRateHz);
        _corruptor = new ScaleCorruptor(codec, _options.CorruptPercent, _options.Seed);
    }

    /// <summary>The codec frames are encoded with.</summary>
    public ScaleCodec Codec => _codec;

    /// <summary>Counts so far.</summary>
    public ScaleSimulatorStats Stats => new(Volatile.Read(ref _frames), Volatile.Read(ref _flipped), Volatile.Read(ref _truncated), Volatile.Read(ref _garbage));

    /// <summary>The frame for one reading (motion dropped where the protocol has no flag).</summary>
    public byte[] Encode(ScaleSample sample) =>
        _codec.Encode(ScaleFrame.Gross(sample.GrossKg, _codec.HasMotionFlag ? sample.Motion : null));

    /// <summary>
    /// Writes the frames of <paramref name="samples"/>[<paramref name="from"/>..<paramref name="to"/>) to
    /// <paramref name="output"/> at the frame rate, flushing each.
    /// </summary>
    public async Task StreamAsync(Stream output, IReadOnlyList<ScaleSample> samples, int from, int to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(samples);
        var period = TimeSpan.FromSeconds(1 / _options.FrameRateHz);
        var clock = TimeProvider.System;
        var next = clock.GetTimestamp();
        for (int i = from; i < to; i++)
        {
            // A late frame is sent at once but the schedule restarts from it: an indicator that fell
            // behind does not burst the frames it missed (a burst would squeeze a load's sitting time).
            var wait = clock.GetElapsedTime(clock.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
            else
            {
                next = clock.GetTimestamp();
            }

            next += (long)(period.TotalSeconds * clock.TimestampFrequency);
            await WriteFrameAsync(output, samples[i], cancellationToken);
        }
    }

    /// <summary>Writes the frames of all <paramref name="samples"/>.</summary>
    public Task StreamAsync(Stream output, IReadOnlyList<ScaleSample> samples, CancellationToken cancellationToken) =>
        StreamAsync(output, samples, 0, samples.Count, cancellationToken);

    /// <summary>Writes one (possibly damaged) frame now.</summary>
    public async Task WriteFrameAsync(Stream output, ScaleSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (bytes, corruption) = _corruptor.Apply(Encode(sample));
        await output.WriteAsync(bytes, cancellationToken);
        await output.FlushAsync(cancellationToken);
        Interlocked.Increment(ref _frames);
        switch (corruption)
        {
            case ScaleCorruption.FlippedByte: Interlocked.Increment(ref _flipped); break;
            case ScaleCorruption.Truncated: Interlocked.Increment(ref _truncated); break;
            case ScaleCorruption.Garbage: Interlocked.Increment(ref _garbage); break;
        }
    }
}
