using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.Modbus.Tests.Client;

/// <summary>
/// Several requests in flight on one Modbus TCP link, against a scripted device on a raw socket: replies in any
/// order reach their own requests, a lost reply times out only its own request, and a device that cannot pipeline
/// never sees a second request before it answered the first.
/// </summary>
public sealed class PipeliningTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>One FC03 request as the device saw it.</summary>
    private readonly record struct Request(ushort TransactionId, byte UnitId, ushort Address, ushort Quantity);

    /// <summary>
    /// A device on 127.0.0.1 that accepts one connection, reads MBAP requests one ADU at a time and hands them to a
    /// script, which answers (or not) through <see cref="ReplyAsync"/>. The reply to FC03 at address A holds 1000 + A.
    /// </summary>
    private sealed class ScriptedDevice : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private Socket? _socket;

        public ScriptedDevice(Func<ScriptedDevice, Request, Task> script)
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                socket.NoDelay = true;
                _socket = socket;
                var header = new byte[7];
                try
                {
                    while (true)
                    {
                        await ReadExactlyAsync(socket, header, 0);
                        int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)) - 1;
                        var pdu = new byte[length];
                        await ReadExactlyAsync(socket, pdu, 0);
                        var request = new Request(
                            BinaryPrimitives.ReadUInt16BigEndian(header),
                            header[6],
                            BinaryPrimitives.ReadUInt16BigEndian(pdu.AsSpan(1)),
                            BinaryPrimitives.ReadUInt16BigEndian(pdu.AsSpan(3)));
                        Seen.Enqueue(request);
                        await script(this, request);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
                {
                    // Stopped, or the master went away.
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public ConcurrentQueue<Request> Seen { get; } = new();

        /// <summary>Bytes of further requests already waiting in the device's receive buffer.</summary>
        public int Waiting => _socket?.Available ?? 0;

        /// <summary>Drops the connection, as a device that reboots does.</summary>
        public void Hangup() => _socket?.Close();

        public async Task ReplyAsync(Request request)
        {
            var reply = new byte[9 + (2 * request.Quantity)];
            BinaryPrimitives.WriteUInt16BigEndian(reply, request.TransactionId);
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(4), (ushort)(3 + (2 * request.Quantity)));
            reply[6] = request.UnitId;
            reply[7] = 3;
            reply[8] = (byte)(2 * request.Quantity);
            for (int i = 0; i < request.Quantity; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(9 + (2 * i)), (ushort)(1000 + request.Address + i));
            }

            await _socket!.SendAsync(reply, _stop.Token);
        }

        private async Task ReadExactlyAsync(Socket socket, byte[] buffer, int offset)
        {
            while (offset < buffer.Length)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(offset), _stop.Token);
                if (n == 0)
                {
                    throw new IOException("master closed");
                }

                offset += n;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            _socket?.Dispose();
            await _loop.WaitAsync(Bound).ContinueWith(_ => { }, TaskScheduler.Default);
            _stop.Dispose();
        }
    }

    private static ModbusConnectionOptions Options(int maxInFlight, int timeoutMs = 5000) => new()
    {
        MaxInFlight = maxInFlight,
        Timeout = TimeSpan.FromMilliseconds(timeoutMs),
        Retries = 0,
        BreakAfterTimeouts = 100,
    };

    [Fact]
    public async Task Replies_in_reverse_order_reach_their_own_requests_by_transaction_id()
    {
        const int N = 8;
        var held = new List<Request>();
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            // Hold all N requests, then answer the last one first.
            held.Add(request);
            if (held.Count == N)
            {
                for (int i = N - 1; i >= 0; i--)
                {
                    await d.ReplyAsync(held[i]);
                }
            }
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(N));

        var reads = Enumerable.Range(0, N).Select(i => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)(10 * i), 2)).ToArray();
        var results = await Task.WhenAll(reads).WaitAsync(Bound);

        for (int i = 0; i < N; i++)
        {
            Assert.Equal(new ushort[] { (ushort)(1000 + (10 * i)), (ushort)(1001 + (10 * i)) }, results[i]);
        }

        Assert.Equal(N, device.Seen.Select(r => r.TransactionId).Distinct().Count());
        Assert.Equal(0, master.Counters.UnmatchedResponses);
    }

    [Fact]
    public async Task A_lost_reply_times_out_only_its_own_request_and_its_late_reply_is_dropped()
    {
        Request? lost = null;
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            if (request.Address == 13)
            {
                lost = request; // never answered in time
            }
            else if (request.Address == 20)
            {
                // The late reply to the lost request arrives just before the answer to the next one, which may
                // reuse the lost request's slot: its old transaction id must not answer the new request.
                await d.ReplyAsync(lost!.Value);
                await d.ReplyAsync(request);
            }
            else
            {
                await d.ReplyAsync(request);
            }
        });
        const int TimeoutMs = 1500;
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4, TimeoutMs));
        _ = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound); // connected

        var clock = Stopwatch.StartNew();
        var lostRead = master.ReadRegistersAsync(1, ModbusArea.Holding, 13, 1);
        var others = Enumerable.Range(10, 3).Select(a => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)a, 1)).ToArray();
        var answered = await Task.WhenAll(others).WaitAsync(Bound);
        var othersTook = clock.Elapsed;
        await Assert.ThrowsAsync<TimeoutException>(() => lostRead.WaitAsync(Bound));
        var lostTook = clock.Elapsed;

        Assert.Equal(new ushort[] { 1010, 1011, 1012 }, answered.Select(r => r[0]));
        Assert.True(othersTook < TimeSpan.FromMilliseconds(TimeoutMs), $"the answered requests waited {othersTook.TotalMilliseconds:0} ms, as long as the lost one's timeout");
        Assert.True(lostTook >= TimeSpan.FromMilliseconds(TimeoutMs - 50), $"the lost request gave up after {lostTook.TotalMilliseconds:0} ms, before its timeout");
        Assert.Equal(1, master.Counters.Timeouts);
        Assert.Equal(ModbusConnectionState.Connected, master.State);

        Assert.Equal(1020, (await master.ReadRegistersAsync(1, ModbusArea.Holding, 20, 1).WaitAsync(Bound))[0]);
        Assert.Equal(1, master.Counters.UnmatchedResponses);
        Assert.Equal(1, master.Counters.Timeouts);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, true)]
    public async Task A_device_that_does_not_pipeline_gets_one_request_at_a_time_by_default(int maxInFlight, bool overlapExpected)
    {
        int overlaps = 0;
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            // Take a moment to answer, as a slow meter does; any bytes waiting now are a request sent before
            // this one was answered.
            await Task.Delay(3);
            if (d.Waiting > 0)
            {
                Interlocked.Increment(ref overlaps);
            }

            await d.ReplyAsync(request);
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(maxInFlight));

        var reads = Enumerable.Range(0, 16).Select(a => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)a, 1)).ToArray();
        var results = await Task.WhenAll(reads).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 16).Select(a => (ushort)(1000 + a)), results.Select(r => r[0]));
        Assert.Equal(16, device.Seen.Count);
        if (overlapExpected)
        {
            Assert.True(overlaps > 0, "with 4 in flight the device should have seen requests queued behind the one it was answering");
        }
        else
        {
            Assert.Equal(0, overlaps);
        }
    }

    [Fact]
    public async Task Cancelling_one_pipelined_request_leaves_the_others_and_the_link_alone()
    {
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            if (request.Address != 7)
            {
                await d.ReplyAsync(request);
            }
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4));
        using var cancel = new CancellationTokenSource();

        var cancelled = master.ReadRegistersAsync(1, ModbusArea.Holding, 7, 1, cancel.Token);
        var first = await master.ReadRegistersAsync(1, ModbusArea.Holding, 1, 1).WaitAsync(Bound);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Bound));
        var second = await master.ReadRegistersAsync(1, ModbusArea.Holding, 2, 1).WaitAsync(Bound);

        Assert.Equal(1001, first[0]);
        Assert.Equal(1002, second[0]);
        Assert.Equal(0, master.Counters.Timeouts);
        Assert.Equal(ModbusConnectionState.Connected, master.State);
    }

    private static ModbusTag[] Tags(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ModbusTag($"t{10 * i}", 1, ModbusArea.Holding, (ushort)(10 * i), ModbusDataType.UInt16))];

    [Fact]
    public async Task The_poller_keeps_up_to_MaxInFlight_blocks_of_a_unit_in_flight_and_reports_them_in_plan_order()
    {
        var held = new List<Request>();
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            // Answers only once 4 requests are outstanding, the last first: a poller reading one block at a time
            // would never get an answer.
            held.Add(request);
            if (held.Count == 4)
            {
                for (int i = 3; i >= 0; i--)
                {
                    await d.ReplyAsync(held[i]);
                }

                held.Clear();
            }
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4));
        var poller = new ModbusPoller(master, Tags(12), new ModbusPollerOptions { MaxGap = 0 });
        Assert.Equal(12, poller.Plan.Count);

        var samples = await poller.PollOnceAsync().WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"t{10 * i}"), samples.Select(s => s.Tag.Name));
        Assert.All(samples, s => Assert.Equal(ModbusQuality.Good, s.Quality));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (double?)(1000 + (10 * i))), samples.Select(s => s.Value));
        Assert.Equal(4, master.MaxConcurrentRequests);
    }

    [Fact]
    public async Task A_block_whose_reply_is_lost_is_Bad_alone_while_its_siblings_in_flight_are_read()
    {
        await using var device = new ScriptedDevice(async (d, request) =>
        {
            if (request.Address != 50)
            {
                await d.ReplyAsync(request);
            }
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4, timeoutMs: 1000));
        var poller = new ModbusPoller(master, Tags(12), new ModbusPollerOptions { MaxGap = 0 });

        var samples = await poller.PollOnceAsync().WaitAsync(Bound);

        Assert.Equal(12, samples.Count);
        var bad = Assert.Single(samples, s => s.Quality != ModbusQuality.Good);
        Assert.Equal("t50", bad.Tag.Name);
        Assert.Equal("timeout", bad.Reason);
        Assert.True(poller.IsBackingOff(1));
        Assert.Equal(1, master.Counters.Timeouts);
    }

    [Fact]
    public async Task Rtu_links_stay_strictly_sequential_whatever_MaxInFlight_says()
    {
        await using var rtuOverTcp = ModbusRtuConnection.OverTcp("127.0.0.1", 1, Options(8));
        await using var tcp = new ModbusTcpConnection("127.0.0.1", 1);
        Assert.Equal(1, rtuOverTcp.MaxConcurrentRequests);
        Assert.Equal(1, tcp.MaxConcurrentRequests);
    }

    [Fact]
    public async Task Requests_started_while_writes_are_held_leave_when_the_hold_ends()
    {
        await using var device = new ScriptedDevice((d, request) => d.ReplyAsync(request));
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4));
        Assert.Null(master.HoldWrites()); // not connected yet: nothing to hold
        _ = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound);

        Task<ushort[]>[] reads;
        using (master.HoldWrites())
        {
            reads = [.. Enumerable.Range(1, 4).Select(a => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)a, 1))];
            await Task.Delay(200);
            Assert.Single(device.Seen); // only the first read reached the device
        }

        var results = await Task.WhenAll(reads).WaitAsync(Bound);
        Assert.Equal(new ushort[] { 1001, 1002, 1003, 1004 }, results.Select(r => r[0]));
        Assert.Equal(5, device.Seen.Count);
    }

    [Fact]
    public async Task A_dropped_connection_fails_every_request_in_flight_at_once()
    {
        var held = new List<Request>();
        await using var device = new ScriptedDevice((d, request) =>
        {
            held.Add(request);
            if (held.Count == 4)
            {
                d.Hangup();
            }

            return Task.CompletedTask;
        });
        await using var master = new ModbusTcpConnection("127.0.0.1", device.Port, Options(4, timeoutMs: 5000));

        var clock = Stopwatch.StartNew();
        var reads = Enumerable.Range(0, 4).Select(a => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)a, 1)).ToArray();
        foreach (var read in reads)
        {
            await Assert.ThrowsAnyAsync<IOException>(() => read.WaitAsync(Bound));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"the requests failed after {clock.Elapsed.TotalMilliseconds:0} ms, not when the connection dropped");
        Assert.Equal(0, master.Counters.Timeouts);
        Assert.Equal(1, master.Counters.Breaks);
        Assert.Equal(ModbusConnectionState.Broken, master.State);
    }
}
