namespace EdgeCollector.Scales;

/// <summary>Outcome of <see cref="ScaleCodec.Decode"/>.</summary>
public enum ScaleDecodeStatus
{
    /// <summary>The bytes so far are a valid beginning of a frame (or nothing): nothing was consumed.</summary>
    NeedMoreData = 0,

    /// <summary>A whole frame was decoded and consumed.</summary>
    Frame = 1,

    /// <summary>
    /// The bytes at the reader cannot start a valid frame. Nothing was consumed; the caller skips
    /// <see cref="ScaleFrameError.BytesToSkip"/> bytes and decodes again.
    /// </summary>
    Rejected = 2,
}

/// <summary>Why bytes were rejected and how far to skip to re-synchronise.</summary>
/// <param name="Reason">Human-readable reason naming the failed check.</param>
/// <param name="BytesToSkip">At least 1 and at most the bytes available.</param>
/// <param name="IsGarbage">
/// True when the bytes did not even begin with a start byte (noise between frames, the tail of a
/// frame we joined mid-way); false when a frame began but failed a check.
/// </param>
public readonly record struct ScaleFrameError(string Reason, long BytesToSkip, bool IsGarbage);

/// <summary>A frame failed its checks (thrown by <see cref="ScaleCodec.TryRead"/>).</summary>
public sealed class ScaleFrameException : Exception
{
    /// <summary>Creates the exception for <paramref name="protocol"/>.</summary>
    public ScaleFrameException(string protocol, ScaleFrameError error)
        : base($"{protocol}: {error.Reason}")
    {
        Protocol = protocol;
        Error = error;
    }

    /// <summary>Config name of the protocol that rejected the bytes.</summary>
    public string Protocol { get; }

    /// <summary>The reason and how many bytes to skip to re-synchronise.</summary>
    public ScaleFrameError Error { get; }

    /// <summary>Bytes to skip before decoding again.</summary>
    public long BytesToSkip => Error.BytesToSkip;
}
