namespace EdgeCollector.Modbus;

/// <summary>
/// Malformed bytes on the wire. The message names the spec clause that was violated.
/// When the frame boundary was still known (<see cref="FrameLength"/>), the caller may skip the
/// frame and — on the server side — answer with <see cref="ExceptionCode"/>.
/// </summary>
public sealed class ModbusProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModbusProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModbusProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the details a server needs to answer.</summary>
    public ModbusProtocolException(string message, ModbusExceptionCode? exceptionCode, int? frameLength = null, byte functionCode = 0, ushort transactionId = 0, byte unitId = 0)
        : base(message)
    {
        ExceptionCode = exceptionCode;
        FrameLength = frameLength;
        FunctionCode = functionCode;
        TransactionId = transactionId;
        UnitId = unitId;
    }

    /// <summary>Creates the exception.</summary>
    public ModbusProtocolException()
    {
    }

    /// <summary>What a server should answer for this request, if the request was framed well enough to answer.</summary>
    public ModbusExceptionCode? ExceptionCode { get; }

    /// <summary>Length in bytes of the offending frame when its boundary is known; null when the stream cannot be resynchronised by skipping.</summary>
    public int? FrameLength { get; }

    /// <summary>Raw function code byte of the offending frame (0 if unknown).</summary>
    public byte FunctionCode { get; }

    /// <summary>Transaction id of the offending frame (TCP).</summary>
    public ushort TransactionId { get; }

    /// <summary>Unit id of the offending frame.</summary>
    public byte UnitId { get; }
}

/// <summary>The device answered with a Modbus exception response (Modbus Application Protocol v1.1b3 §7).</summary>
public sealed class ModbusDeviceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModbusDeviceException(byte unitId, ModbusFunctionCode function, ModbusExceptionCode code)
        : base($"Unit {unitId} answered {function} with exception {(byte)code:X2} {code} (Modbus Application Protocol v1.1b3 §7).")
    {
        UnitId = unitId;
        Function = function;
        Code = code;
    }

    /// <summary>Unit that answered.</summary>
    public byte UnitId { get; }

    /// <summary>Function that failed.</summary>
    public ModbusFunctionCode Function { get; }

    /// <summary>The exception code.</summary>
    public ModbusExceptionCode Code { get; }
}
