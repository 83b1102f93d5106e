using System.CommandLine;
using System.Globalization;
using EdgeCollector.Modbus;
using EdgeCollector.Scales;
using EdgeCollector.Serial;

namespace EdgeCollector.Cli;

/// <summary>Commissioning verbs: talk to one device directly, without a config.</summary>
public static class DeviceCommands
{
    public static Command Modbus()
    {
        var host = new Option<string?>("--host") { Description = "Modbus TCP (or RTU-over-TCP with --rtu) host." };
        var port = new Option<int>("--port") { Description = "TCP port.", DefaultValueFactory = _ => 502 };
        var serial = new Option<string?>("--serial") { Description = "Serial device for Modbus RTU, e.g. /dev/ttyUSB0 (instead of --host)." };
        var baud = new Option<int>("--baud") { Description = "Serial baud rate.", DefaultValueFactory = _ => 9600 };
        var parity = new Option<SerialParity>("--parity") { Description = "Serial parity: None, Even, Odd.", DefaultValueFactory = _ => SerialParity.Even };
        var rtu = new Option<bool>("--rtu") { Description = "With --host: RTU frames over TCP (a serial-to-Ethernet converter)." };
        var unit = new Option<int>("--unit") { Description = "Unit id (slave address).", DefaultValueFactory = _ => 1 };
        var area = new Option<ModbusArea>("--area") { Description = "Holding (FC03), Input (FC04), Coil (FC01), Discrete (FC02).", DefaultValueFactory = _ => ModbusArea.Holding };
        var address = new Option<int>("--address") { Description = "Wire address, 0-based: a manual's 1-based register 3204 is --address 3203.", Required = true };
        var type = new Option<ModbusDataType>("--type") { Description = "Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64, Bcd16, Bcd32, Bcd48, Bool.", DefaultValueFactory = _ => ModbusDataType.UInt16 };
        var order = new Option<ModbusWordOrder>("--word-order") { Description = "ABCD, CDAB, BADC, DCBA.", DefaultValueFactory = _ => ModbusWordOrder.ABCD };
        var count = new Option<int>("--count") { Description = "Consecutive values to read.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<int>("--timeout-ms") { Description = "Per-request timeout.", DefaultValueFactory = _ => 1000 };

        var read = new Command("read", "Read values from one Modbus device and print them (commissioning).");
        foreach (var o in new Option[] { host, port, serial, baud, parity, rtu, unit, area, address, type, order, count, timeout })
        {
            read.Options.Add(o);
        }

        read.SetAction(async (parse, ct) =>
        {
            var options = new ModbusConnectionOptions { Timeout = TimeSpan.FromMilliseconds(parse.GetValue(timeout)) };
            string? h = parse.GetValue(host);
            string? s = parse.GetValue(serial);
            if ((h is null) == (s is null))
            {
                await Console.Error.WriteLineAsync("give exactly one of --host and --serial");
                return ExitCodes.BadInput;
            }

            await using ModbusConnection connection = s is not null
                ? ModbusRtuConnection.Serial(new SerialPortSettings(s, parse.GetValue(baud), 8, parse.GetValue(parity)), options)
                : parse.GetValue(rtu) ? ModbusRtuConnection.OverTcp(h!, parse.GetValue(port), options) : new ModbusTcpConnection(h!, parse.GetValue(port), options);
            var samples = await connection.ReadValuesAsync((byte)parse.GetValue(unit), parse.GetValue(area), checked((ushort)parse.GetValue(address)),
                parse.GetValue(type), parse.GetValue(order), parse.GetValue(count), cancellationToken: ct);
            int bad = 0;
            foreach (var sample in samples)
            {
                if (sample.Value is double v && sample.Quality == ModbusQuality.Good)
                {
                    Console.WriteLine($"{sample.Tag.Name}\t{v.ToString("R", CultureInfo.InvariantCulture)}");
                }
                else
                {
                    bad++;
                    Console.WriteLine($"{sample.Tag.Name}\tBad\t{sample.Reason}");
                }
            }

            return bad == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        var modbus = new Command("modbus", "Modbus commissioning tools.");
        modbus.Subcommands.Add(read);
        return modbus;
    }

    public static Command Scale()
    {
        var protocol = new Option<string>("--protocol") { Description = "XK3190-A9 | XK3190-A9-Reversed | XK3190-A12 | Toledo-Continuous | MT-SICS | AND", Required = true };
        var port = new Option<string?>("--port") { Description = "Serial device, e.g. /dev/ttyS0." };
        var tcp = new Option<string?>("--tcp") { Description = "host:port of a serial-to-Ethernet converter." };
        var baud = new Option<int>("--baud") { DefaultValueFactory = _ => 9600, Description = "Serial baud rate." };
        var watch = new Command("watch", "Print decoded readings live (JSON lines) and link changes (# lines) until Ctrl+C.");
        foreach (var o in new Option[] { protocol, port, tcp, baud })
        {
            watch.Options.Add(o);
        }

        watch.SetAction(async (parse, ct) =>
        {
            try
            {
                await ScaleWatch.RunAsync(new ScaleWatchOptions
                {
                    Protocol = parse.GetValue(protocol)!,
                    Port = parse.GetValue(port),
                    Tcp = parse.GetValue(tcp),
                    Baud = parse.GetValue(baud),
                }, Console.Out, Console.Error, ct);
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return ExitCodes.BadInput;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }

            return ExitCodes.Ok;
        });
        var scale = new Command("scale", "Weight-indicator commissioning tools.");
        scale.Subcommands.Add(watch);
        return scale;
    }
}
