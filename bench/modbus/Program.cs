using System.Diagnostics;
using System.Globalization;
using System.Net;
using EdgeCollector.Modbus;

namespace EdgeCollector.Bench.Modbus;

/// <summary>
/// Modbus TCP benchmark console (issue 3), driven by <c>bench/modbus.sh</c>. Each verb is its own process so that
/// the figures of the master (or the poller) are not mixed with those of the slave.
/// <list type="bullet">
/// <item><c>slave &lt;registers&gt;</c>: our slave on 127.0.0.1 (free port), unit 1, holding register i = i mod 65536;
/// prints <c>LISTENING &lt;port&gt;</c> and serves until stdin closes.</item>
/// <item><c>master &lt;port&gt; &lt;seconds&gt; &lt;in-flight&gt; &lt;count&gt;</c>: FC03 reads of &lt;count&gt; registers at 0
/// from unit 1 with &lt;in-flight&gt; concurrent requests on one connection for &lt;seconds&gt; (after a 1 s warm-up);
/// prints <c>RESULT requests= seconds= cpu=</c>.</item>
/// <item><c>poll &lt;port&gt; &lt;registers&gt; &lt;seconds&gt; [interval-ms=1000] [in-flight=1]</c>: a <see cref="ModbusPoller"/> over
/// &lt;registers&gt;/2 Float32 tags (blocks of 124 registers) on a link with &lt;in-flight&gt; requests pipelined (1: the
/// collector's default, one block after the other), one cycle per interval, for &lt;seconds&gt; after 100 warm-up cycles; prints
/// <c>RESULT cycles= samples= bad= seconds= cpu=</c> (cpu = user+sys seconds of this process in the window).</item>
/// </list>
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["slave", var registers]:
                return await SlaveAsync(Int(registers));
            case ["master", var port, var seconds, var inFlight, var count]:
                return await MasterAsync(Int(port), Double(seconds), Int(inFlight), (ushort)Int(count));
            case ["poll", var port, var registers, var seconds]:
                return await PollAsync(Int(port), Int(registers), Double(seconds), 1000);
            case ["poll", var port, var registers, var seconds, var intervalMs]:
                return await PollAsync(Int(port), Int(registers), Double(seconds), Int(intervalMs));
            case ["poll", var port, var registers, var seconds, var intervalMs, var inFlight]:
                return await PollAsync(Int(port), Int(registers), Double(seconds), Int(intervalMs), Int(inFlight));
            default:
                await Console.Error.WriteLineAsync("usage: slave <registers> | master <port> <seconds> <in-flight> <count> | poll <port> <registers> <seconds> [interval-ms] [in-flight]");
                return 2;
        }
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static double Double(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static void Result(FormattableString line) => Console.WriteLine(line.ToString(CultureInfo.InvariantCulture));

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static async Task<int> SlaveAsync(int registers)
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, Enumerable.Range(0, registers).Select(i => (ushort)i).ToArray());
        await using var slave = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, 0)).Start();
        Console.WriteLine($"LISTENING {slave.LocalEndPoint.Port}");
        // Serve until the script closes our stdin.
        await Console.In.ReadToEndAsync();
        return 0;
    }

    private static async Task<int> MasterAsync(int port, double seconds, int inFlight, ushort count)
    {
        await using var master = new ModbusTcpConnection("127.0.0.1", port, new ModbusConnectionOptions
        {
            MaxInFlight = inFlight,
            Timeout = TimeSpan.FromSeconds(5),
            Retries = 0,
        });
        await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, count); // connect outside the measurement
        await RunAsync(1.0); // warm-up: tiered JIT
        var cpu0 = Cpu();
        var (requests, elapsed) = await RunAsync(seconds);
        var cpu = Cpu() - cpu0;
        Result($"RESULT requests={requests} seconds={elapsed:F3} cpu={cpu.TotalSeconds:F3}");
        return 0;

        async Task<(long Requests, double Seconds)> RunAsync(double duration)
        {
            long requests = 0;
            var sw = Stopwatch.StartNew();
            var deadline = TimeSpan.FromSeconds(duration);
            ushort last = (ushort)(count - 1);
            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
            {
                while (sw.Elapsed < deadline)
                {
                    var registers = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, count);
                    if (registers[last] != last)
                    {
                        throw new InvalidOperationException($"register {last} = {registers[last]}, expected {last}");
                    }

                    Interlocked.Increment(ref requests);
                }
            })));
            return (requests, sw.Elapsed.TotalSeconds);
        }
    }

    private static async Task<int> PollAsync(int port, int registers, double seconds, int intervalMs, int inFlight = 1)
    {
        await using var link = new ModbusTcpConnection("127.0.0.1", port, new ModbusConnectionOptions { Timeout = TimeSpan.FromSeconds(2), MaxInFlight = inFlight });
        var tags = Enumerable.Range(0, registers / 2)
            .Select(i => new ModbusTag("t" + i.ToString(CultureInfo.InvariantCulture), 1, ModbusArea.Holding, (ushort)(2 * i), ModbusDataType.Float32))
            .ToList();
        var poller = new ModbusPoller(link, tags, new ModbusPollerOptions { Interval = TimeSpan.FromMilliseconds(intervalMs), MaxGap = 0 });
        int blocks = poller.Plan.Count;
        // Warm-up outside the window: connect, and enough cycles for tiered JIT to reach steady-state code
        // (a method is recompiled after 30 calls; the poll path runs once per block or once per cycle).
        for (int i = 0; i < 100; i++)
        {
            await poller.PollOnceAsync();
        }

        long cycles = 0, samples = 0, bad = 0;
        using var stop = new CancellationTokenSource();
        TimeSpan cpu0 = default;
        var sw = new Stopwatch();
        await foreach (var cycle in poller.RunAsync(stop.Token))
        {
            if (!sw.IsRunning)
            {
                // The window starts after the first cycle of the timed loop.
                cpu0 = Cpu();
                sw.Start();
                continue;
            }

            cycles++;
            samples += cycle.Count;
            foreach (var s in cycle)
            {
                if (s.Quality != ModbusQuality.Good)
                {
                    bad++;
                }
            }

            if (sw.Elapsed.TotalSeconds >= seconds - (intervalMs / 2000.0))
            {
                break;
            }
        }

        var cpu = Cpu() - cpu0;
        Result($"RESULT blocks={blocks} cycles={cycles} samples={samples} bad={bad} seconds={sw.Elapsed.TotalSeconds:F3} cpu={cpu.TotalSeconds:F3}");
        return bad == 0 ? 0 : 1;
    }
}
