namespace EdgeCollector.Scales;

/// <summary>State of the link to one weight indicator.</summary>
public enum ScaleLinkState
{
    /// <summary>Opening the port or connecting to the converter.</summary>
    Connecting = 0,

    /// <summary>Open and valid frames arrive.</summary>
    Connected = 1,

    /// <summary>Open, but no valid frame for <see cref="ScaleLinkOptions.SilenceTimeout"/>: reported as disconnected.</summary>
    Silent = 2,

    /// <summary>The link failed or closed; a reconnect follows after a back-off.</summary>
    Disconnected = 3,
}

/// <summary>Something a <see cref="ScaleLink"/> reports.</summary>
/// <param name="Scale">The source name (config <c>"Name"</c>).</param>
/// <param name="Timestamp">When it happened, from the link's <see cref="TimeProvider"/>.</param>
public abstract record ScaleEvent(string Scale, DateTimeOffset Timestamp);

/// <summary>A gross weight read from the indicator (contracts.md §3 scale reading).</summary>
/// <param name="Scale">The source name.</param>
/// <param name="Timestamp">When the frame was decoded.</param>
/// <param name="GrossKg">Gross weight in kilograms.</param>
/// <param name="Motion">Motion flag; null when the protocol has none.</param>
/// <param name="NetKg">Net weight when the frame carried one.</param>
/// <param name="TareKg">Tare weight when the frame carried one.</param>
public sealed record ScaleReading(string Scale, DateTimeOffset Timestamp, decimal GrossKg, bool? Motion, decimal? NetKg = null, decimal? TareKg = null)
    : ScaleEvent(Scale, Timestamp);

/// <summary>The link changed state.</summary>
/// <param name="Scale">The source name.</param>
/// <param name="Timestamp">When the state changed.</param>
/// <param name="State">The new state.</param>
/// <param name="Reason">Why (the error, "end of stream", the silence), or null.</param>
public sealed record ScaleLinkStateChanged(string Scale, DateTimeOffset Timestamp, ScaleLinkState State, string? Reason)
    : ScaleEvent(Scale, Timestamp);

/// <summary>Counters of one link since it was created.</summary>
/// <param name="Frames">Frames decoded (with or without a weight).</param>
/// <param name="Readings">Frames that gave a gross weight.</param>
/// <param name="FramesWithoutWeight">Overload, underload, no-reading and net/tare-only frames.</param>
/// <param name="RejectedFrames">Frames that began with a start byte but failed a check.</param>
/// <param name="GarbageRuns">Runs of bytes skipped because they did not begin a frame.</param>
/// <param name="BytesSkipped">Bytes skipped for rejected frames and garbage together.</param>
/// <param name="Connects">Successful opens of the stream.</param>
/// <param name="DroppedEvents">Events the channel refused (a bounded channel that was full).</param>
public readonly record struct ScaleLinkStatistics(
    long Frames,
    long Readings,
    long FramesWithoutWeight,
    long RejectedFrames,
    long GarbageRuns,
    long BytesSkipped,
    long Connects,
    long DroppedEvents)
{
    /// <summary>Rejected frames plus garbage runs: every place the driver had to re-synchronise.</summary>
    public long Rejections => RejectedFrames + GarbageRuns;
}

/// <summary>Options of one <see cref="ScaleLink"/>.</summary>
public sealed class ScaleLinkOptions
{
    /// <summary>The source name put on every event.</summary>
    public required string Name { get; init; }

    /// <summary>No valid frame for this long reports the scale <see cref="ScaleLinkState.Silent"/>. Indicators send several frames a second.</summary>
    public TimeSpan SilenceTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When set, a link silent for this long is closed and reopened (must be at least
    /// <see cref="SilenceTimeout"/>). Useful for TCP converters, whose power loss leaves a socket that
    /// looks open; null (default) keeps waiting on the open link.
    /// </summary>
    public TimeSpan? ReopenAfterSilence { get; init; }

    /// <summary>First wait before reopening a failed link; doubles per failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between reopen attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("Name is empty.", nameof(Name));
        }

        if (SilenceTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SilenceTimeout), SilenceTimeout, "SilenceTimeout must be positive.");
        }

        if (ReopenAfterSilence is { } reopen && reopen < SilenceTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(ReopenAfterSilence), reopen, "ReopenAfterSilence must be at least SilenceTimeout.");
        }

        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectDelay), ReconnectDelay, "ReconnectDelay must be positive and at most MaxReconnectDelay.");
        }
    }
}
