namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// A message could not be decoded (malformed, truncated or beyond a configured limit).
/// The message names the clause of OPC 10000-6 that was violated; the status is BadDecodingError
/// unless a more specific code applies (e.g. BadEncodingLimitsExceeded, BadTcpMessageTooLarge).
/// </summary>
public sealed class UaDecodingException : UaException
{
    /// <summary>Creates the exception with BadDecodingError.</summary>
    public UaDecodingException(string message)
        : base(StatusCodes.BadDecodingError, message)
    {
    }

    /// <summary>Creates the exception with a specific status code.</summary>
    public UaDecodingException(StatusCode status, string message)
        : base(status, message)
    {
    }
}

/// <summary>Base of all OPC UA errors raised by this stack; carries the OPC UA status code.</summary>
public class UaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UaException(StatusCode status, string message, Exception? inner = null)
        : base($"{message} ({status})", inner)
    {
        Status = status;
    }

    /// <summary>The OPC UA status code that describes the failure.</summary>
    public StatusCode Status { get; }
}

/// <summary>
/// Bounds applied while decoding so a hostile or broken peer cannot make us allocate or recurse
/// without limit (OPC 10000-6 §5.2.2.4 strings, §5.2.5 arrays, §6.7.2 message size).
/// </summary>
public sealed record UaDecodingLimits
{
    /// <summary>Default limits: 1 MiB strings, 16 MiB byte strings, 100 000 array elements, depth 32, 16 MiB messages.</summary>
    public static UaDecodingLimits Default { get; } = new();

    /// <summary>Maximum length in bytes of a String or XmlElement.</summary>
    public int MaxStringLength { get; init; } = 1 << 20;

    /// <summary>Maximum length of a ByteString.</summary>
    public int MaxByteStringLength { get; init; } = 16 << 20;

    /// <summary>Maximum number of elements in an array (also the product of matrix dimensions).</summary>
    public int MaxArrayLength { get; init; } = 100_000;

    /// <summary>Maximum nesting of Variant, DataValue, ExtensionObject and DiagnosticInfo values.</summary>
    public int MaxNestingDepth { get; init; } = 32;

    /// <summary>Maximum size of a reassembled message body in bytes.</summary>
    public int MaxMessageSize { get; init; } = 16 << 20;
}

/// <summary>A service returned a Bad status (ServiceFault or a Bad ServiceResult).</summary>
public sealed class UaServiceException : UaException
{
    /// <summary>Creates the exception.</summary>
    public UaServiceException(StatusCode status, string message)
        : base(status, message)
    {
    }
}
