using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Tests.Client;

/// <summary>
/// A scripted broker on a loopback socket, built on the same codec from the server side, for behaviour a
/// real broker will not show on demand: silence (dead link), refused PUBACKs.
/// </summary>
internal sealed class FakeBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly Func<MqttPacket, MqttPacket?> _respond;
    private readonly List<Socket> _sockets = [];
    private readonly Task _accept;

    public FakeBroker(MqttProtocolVersion version, Func<MqttPacket, MqttPacket?> respond)
    {
        Version = version;
        _respond = respond;
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public MqttProtocolVersion Version { get; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public List<MqttPacket> Received { get; } = [];

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_cts.Token);
                lock (_sockets) _sockets.Add(socket);
                _ = Task.Run(() => ServeAsync(socket));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[65536];
        int filled = 0;
        var writer = new MqttPacketWriter(Version);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(filled), _cts.Token);
                if (n == 0) return;
                filled += n;
                var packets = new List<MqttPacket>();
                int consumed = Parse(buffer.AsMemory(0, filled), packets);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
                foreach (var p in packets)
                {
                    lock (Received) Received.Add(p);
                    if (_respond(p) is { } reply)
                        await socket.SendAsync(writer.Encode(reply).ToArray(), _cts.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private int Parse(ReadOnlyMemory<byte> data, List<MqttPacket> packets)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
        while (MqttPacketReader.TryRead(ref reader, Version, 1 << 20, out var p)) packets.Add(p);
        return (int)reader.Consumed;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
        try { await _accept; } catch (OperationCanceledException) { }
        _cts.Dispose();
    }
}

public class FakeBrokerTests
{
    [Fact]
    public async Task Keep_alive_timeout_breaks_a_silent_connection_and_fails_what_is_in_flight()
    {
        // CONNACK, then total silence: no PUBACK, no PINGRESP.
        await using var broker = new FakeBroker(MqttProtocolVersion.V311, p => p is MqttConnectPacket ? new MqttConnAckPacket() : null);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "ka", ProtocolVersion = MqttProtocolVersion.V311,
            KeepAlive = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromSeconds(1),
        });
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += s => { if (s == MqttConnectionState.Disconnected) down.TrySetResult(); };
        await client.ConnectAsync();
        var publish = client.PublishAsync("t", new byte[] { 1 });
        await down.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<MqttConnectionLostException>(() => publish.WaitAsync(TimeSpan.FromSeconds(5)));
        lock (broker.Received) Assert.Contains(broker.Received, p => p is MqttPingReqPacket);
        await Assert.ThrowsAsync<MqttConnectionLostException>(() => client.PublishAsync("t", new byte[] { 2 }));
    }

    [Fact]
    public async Task V5_puback_with_failure_reason_fails_the_publish_and_success_codes_below_0x80_do_not()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p switch
        {
            MqttConnectPacket => new MqttConnAckPacket { Properties = new MqttProperties { ReceiveMaximum = 2 } },
            MqttPublishPacket { Topic: "denied" } pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NotAuthorized, Properties = new MqttProperties { ReasonString = "acl" } },
            MqttPublishPacket pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NoMatchingSubscribers },
            _ => null,
        });
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "v5" });
        await client.ConnectAsync();
        var ex = await Assert.ThrowsAsync<MqttPublishRejectedException>(() => client.PublishAsync("denied", new byte[] { 1 }));
        Assert.Equal(MqttReasonCode.NotAuthorized, ex.ReasonCode);
        Assert.Contains("acl", ex.Message, StringComparison.Ordinal);
        // 0x10 No matching subscribers is a success; the window of 2 (broker Receive Maximum) cycles through 50 messages.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.PublishAsync("ok", new byte[] { (byte)i }))).WaitAsync(TimeSpan.FromSeconds(10));
        lock (broker.Received)
        {
            var connect = Assert.IsType<MqttConnectPacket>(broker.Received[0]);
            Assert.Equal(MqttProtocolVersion.V500, connect.ProtocolVersion);
            var ids = broker.Received.OfType<MqttPublishPacket>().Select(p => p.PacketId).ToList();
            Assert.Equal(51, ids.Count);
            Assert.DoesNotContain((ushort)0, ids);
        }
    }

    [Fact]
    public async Task Reconnects_after_the_broker_drops_the_connection()
    {
        int connects = 0;
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p is MqttConnectPacket
            ? (Interlocked.Increment(ref connects) == 1
                ? new MqttDisconnectPacket { ReasonCode = MqttReasonCode.ServerBusy } // first session: CONNACK never comes
                : new MqttConnAckPacket())
            : null);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "rc",
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        await client.StartAsync();
        await client.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connects >= 2);
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Outbox_publisher_removes_and_counts_messages_the_broker_refuses_and_delivers_the_rest()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p switch
        {
            MqttConnectPacket => new MqttConnAckPacket(),
            MqttPublishPacket { Topic: "denied" } pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NotAuthorized },
            MqttPublishPacket pub => new MqttPubAckPacket { PacketId = pub.PacketId },
            _ => null,
        });
        string dir = Infrastructure.Net.TempDir("outbox-reject");
        try
        {
            var log = new List<string>();
            await using var outbox = await EdgeCollector.Mqtt.Outbox.MqttOutbox.OpenAsync(new EdgeCollector.Mqtt.Outbox.MqttOutboxOptions { Directory = dir });
            await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "ob" });
            await client.StartAsync();
            await using var publisher = new EdgeCollector.Mqtt.Outbox.OutboxPublisher(client, outbox, log: (_, m, _) => { lock (log) log.Add(m); });
            publisher.Start();
            await publisher.EnqueueAsync("ok", new byte[] { 1 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            await publisher.EnqueueAsync("denied", new byte[] { 2 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            await publisher.EnqueueAsync("ok", new byte[] { 3 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            Assert.True(await publisher.WaitUntilEmptyAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(2, publisher.PublishedCount);
            Assert.Equal(1, publisher.RejectedCount);
            lock (log) Assert.Contains(log, l => l.Contains("NotAuthorized", StringComparison.Ordinal));
            lock (broker.Received)
                Assert.Equal(["ok", "denied", "ok"], broker.Received.OfType<MqttPublishPacket>().Select(p => p.Topic));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task V5_broker_limits_from_connack_are_respected()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p is MqttConnectPacket
            ? new MqttConnAckPacket { Properties = new MqttProperties { MaximumQoS = 0, RetainAvailable = 0, MaximumPacketSize = 64 } }
            : null);
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "limits" });
        await client.ConnectAsync();
        var qos = Assert.Throws<NotSupportedException>(() => { _ = client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtLeastOnce); });
        Assert.Contains("MQTT-3.2.2-11", qos.Message, StringComparison.Ordinal);
        var retain = Assert.Throws<NotSupportedException>(() => { _ = client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtMostOnce, retain: true); });
        Assert.Contains("MQTT-3.2.2-14", retain.Message, StringComparison.Ordinal);
        // Larger than the broker's Maximum Packet Size: refused locally, the connection stays up.
        await Assert.ThrowsAsync<ArgumentException>(() => client.PublishAsync("t", new byte[100], MqttQualityOfService.AtMostOnce));
        await client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtMostOnce);
        Assert.Equal(MqttConnectionState.Connected, client.State);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        bool Seen() { lock (broker.Received) return broker.Received.OfType<MqttPublishPacket>().Any(); }
        while (DateTime.UtcNow < deadline && !Seen()) await Task.Delay(10);
        lock (broker.Received) Assert.Single(broker.Received.OfType<MqttPublishPacket>());
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_and_is_capped()
    {
        var client = new MqttClient(new MqttClientOptions { Host = "x", ReconnectMinDelay = TimeSpan.FromSeconds(1), ReconnectMaxDelay = TimeSpan.FromSeconds(30) });
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double nominal = Math.Min(30, Math.Pow(2, attempt));
            var delays = Enumerable.Range(0, 200).Select(_ => client.BackoffDelay(attempt).TotalSeconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, nominal * 0.5, nominal));
            Assert.True(delays.Distinct().Count() > 50, "jitter expected");
        }
    }

    [Theory]
    [InlineData("mqtt://127.0.0.1:1883", "127.0.0.1", 1883, false)]
    [InlineData("mqtts://broker.plant:8884", "broker.plant", 8884, true)]
    [InlineData("mqtts://broker.plant", "broker.plant", 8883, true)]
    [InlineData("mqtt://broker", "broker", 1883, false)]
    public void Broker_uri_is_parsed(string uri, string host, int port, bool tls) =>
        Assert.Equal((host, port, tls), MqttClientOptions.ParseBrokerUri(uri));
}
