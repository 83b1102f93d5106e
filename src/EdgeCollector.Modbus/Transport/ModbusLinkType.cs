using EdgeCollector.Serial;

namespace EdgeCollector.Modbus;

/// <summary>The three kinds of Modbus link in the configuration (<c>"Type"</c> in contracts.md).</summary>
public enum ModbusLinkType
{
    /// <summary>Modbus TCP (MBAP), <c>ModbusTcp</c>.</summary>
    Tcp,
    /// <summary>RTU on a local serial port, <c>ModbusRtu</c>.</summary>
    Rtu,
    /// <summary>RTU frames over TCP to a serial gateway, <c>ModbusRtuOverTcp</c>.</summary>
    RtuOverTcp,
}

/// <summary>Creates the right <see cref="ModbusConnection"/> for a configured link.</summary>
public static class ModbusConnectionFactory
{
    /// <summary>Creates (but does not open) a link.</summary>
    /// <param name="type">Link kind.</param>
    /// <param name="host">Host for <see cref="ModbusLinkType.Tcp"/> and <see cref="ModbusLinkType.RtuOverTcp"/>.</param>
    /// <param name="port">TCP port (502 for Modbus TCP; gateways often 4001 or 502).</param>
    /// <param name="serial">Serial settings for <see cref="ModbusLinkType.Rtu"/>.</param>
    /// <param name="options">Timing and retries.</param>
    /// <param name="timeProvider">Clock.</param>
    public static ModbusConnection Create(ModbusLinkType type, string? host = null, int port = 502, SerialPortSettings? serial = null, ModbusConnectionOptions? options = null, TimeProvider? timeProvider = null) => type switch
    {
        ModbusLinkType.Tcp => new ModbusTcpConnection(host ?? throw new ArgumentNullException(nameof(host)), port, options, timeProvider),
        ModbusLinkType.RtuOverTcp => ModbusRtuConnection.OverTcp(host ?? throw new ArgumentNullException(nameof(host)), port, options, timeProvider),
        ModbusLinkType.Rtu => ModbusRtuConnection.Serial(serial ?? throw new ArgumentNullException(nameof(serial)), options, timeProvider),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
