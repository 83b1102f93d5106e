using System.Buffers;
using System.Net.Sockets;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>Our server at the service and wire level, driven through a bare secure channel.</summary>
public sealed class ServerProtocolTests : IAsyncLifetime
{
    private FurnacePlcSimulator _sim = null!;

    public async Task InitializeAsync()
    {
        _sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await _sim.StartAsync();
    }

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private sealed class UnsupportedRequest : UaRequest
    {
        public override NodeId BinaryEncodingId => new(0, 712u); // CallRequest: not offered by this server.

        protected override void EncodeBody(UaBinaryWriter writer) => writer.WriteInt32(0);

        protected override void DecodeBody(ref UaBinaryReader reader) => reader.ReadInt32();
    }

    private static async Task<NodeId> OpenSessionAsync(UaClientChannel channel)
    {
        var created = await channel.SendRequestAsync<CreateSessionResponse>(new CreateSessionRequest { RequestedSessionTimeout = 60_000, ClientNonce = new byte[32] });
        var activate = new ActivateSessionRequest { UserIdentityToken = new ExtensionObject(new AnonymousIdentityToken { PolicyId = "anonymous" }) };
        activate.RequestHeader.AuthenticationToken = created.AuthenticationToken;
        await channel.SendRequestAsync<ActivateSessionResponse>(activate);
        return created.AuthenticationToken;
    }

    private static T WithToken<T>(T request, NodeId token)
        where T : UaRequest
    {
        request.RequestHeader.AuthenticationToken = token;
        return request;
    }

    [Fact]
    public async Task Unknown_service_gets_a_ServiceFault_and_the_channel_stays_open()
    {
        await using var channel = await UaClientChannel.ConnectAsync(_sim.EndpointUrl);
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => channel.SendRequestAsync<CallResponseStub>(new UnsupportedRequest()));
        Assert.Equal(StatusCodes.BadServiceUnsupported, ex.Status);
        Assert.Equal(UaChannelState.Open, channel.State);
        Assert.NotEmpty((await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest())).Endpoints!);
    }

    [Fact]
    public async Task Publish_republish_and_acknowledge()
    {
        await using var channel = await UaClientChannel.ConnectAsync(_sim.EndpointUrl);
        var token = await OpenSessionAsync(channel);
        var sub = await channel.SendRequestAsync<CreateSubscriptionResponse>(WithToken(new CreateSubscriptionRequest
        {
            RequestedPublishingInterval = 50, RequestedMaxKeepAliveCount = 5, RequestedLifetimeCount = 100, PublishingEnabled = true,
        }, token));
        var items = await channel.SendRequestAsync<CreateMonitoredItemsResponse>(WithToken(new CreateMonitoredItemsRequest
        {
            SubscriptionId = sub.SubscriptionId,
            TimestampsToReturn = TimestampsToReturn.Both,
            ItemsToCreate =
            [
                new MonitoredItemCreateRequest
                {
                    ItemToMonitor = new ReadValueId { NodeId = _sim.TagId("F1", "HeatNo"), AttributeId = Attributes.Value },
                    MonitoringMode = MonitoringMode.Reporting,
                    RequestedParameters = new MonitoringParameters { ClientHandle = 42, SamplingInterval = -1, QueueSize = 1 },
                },
            ],
        }, token));
        Assert.True(Assert.Single(items.Results!).StatusCode.IsGood);

        var first = await channel.SendRequestAsync<PublishResponse>(WithToken(new PublishRequest(), token));
        var data = Assert.IsType<DataChangeNotification>(Assert.Single(first.NotificationMessage.NotificationData!)!.Body);
        Assert.Equal(42u, Assert.Single(data.MonitoredItems!).ClientHandle);
        var sequence = first.NotificationMessage.SequenceNumber;
        Assert.Contains(sequence, first.AvailableSequenceNumbers!);

        var again = await channel.SendRequestAsync<RepublishResponse>(WithToken(new RepublishRequest { SubscriptionId = sub.SubscriptionId, RetransmitSequenceNumber = sequence }, token));
        Assert.Equal(sequence, again.NotificationMessage.SequenceNumber);

        // Acknowledge it; the next Publish (a keep-alive: nothing changed) reports the ack result and no longer offers it.
        var second = await channel.SendRequestAsync<PublishResponse>(WithToken(new PublishRequest
        {
            SubscriptionAcknowledgements = [new SubscriptionAcknowledgement { SubscriptionId = sub.SubscriptionId, SequenceNumber = sequence }],
        }, token));
        Assert.Equal([StatusCodes.Good], second.Results!);
        Assert.Empty(second.NotificationMessage.NotificationData!);
        Assert.Equal(sequence + 1, second.NotificationMessage.SequenceNumber);
        Assert.DoesNotContain(sequence, second.AvailableSequenceNumbers!);
        var gone = await Assert.ThrowsAsync<UaServiceException>(() => channel.SendRequestAsync<RepublishResponse>(
            WithToken(new RepublishRequest { SubscriptionId = sub.SubscriptionId, RetransmitSequenceNumber = sequence }, token)));
        Assert.Equal(StatusCodes.BadMessageNotAvailable, gone.Status);

        await channel.SendRequestAsync<CloseSessionResponse>(WithToken(new CloseSessionRequest { DeleteSubscriptions = true }, token));
        Assert.Equal(0, _sim.Server.SubscriptionCount);
        Assert.Equal(0, _sim.Server.SessionCount);
    }

    [Fact]
    public async Task Garbage_instead_of_Hello_gets_an_Error_message_and_the_socket_closes()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _sim.Server.Port);
        await socket.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        var received = new ArrayBufferWriter<byte>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var n = await socket.ReceiveAsync(received.GetMemory(4096), timeout.Token);
            if (n == 0)
                break;
            received.Advance(n);
        }

        var sequence = new ReadOnlySequence<byte>(received.WrittenMemory);
        Assert.True(UaTcpFraming.TryReadChunk(ref sequence, 65535, out var chunk));
        Assert.Equal(UaMessageType.Error, chunk!.MessageType);
        var error = UaError.DecodeBody(chunk.Data.AsSpan(8));
        Assert.Equal(StatusCodes.BadTcpMessageTypeInvalid, error.Error);
        Assert.Contains("OPC 10000-6", error.Reason);
    }

    [Fact]
    public async Task Client_reports_a_refused_connection()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var ex = await Assert.ThrowsAsync<UaException>(() => UaClientChannel.ConnectAsync($"opc.tcp://127.0.0.1:{port}"));
        Assert.Equal(StatusCodes.BadNotConnected, ex.Status);
        var bad = await Assert.ThrowsAsync<UaException>(() => UaClientChannel.ConnectAsync("http://127.0.0.1:1"));
        Assert.Equal(StatusCodes.BadTcpEndpointUrlInvalid, bad.Status);
    }

    private sealed class CallResponseStub : UaResponse
    {
        public override NodeId BinaryEncodingId => new(0, 715u);

        protected override void EncodeBody(UaBinaryWriter writer)
        {
        }

        protected override void DecodeBody(ref UaBinaryReader reader)
        {
        }
    }
}

/// <summary>The server keeps serving after connections that send malformed chunks.</summary>
public sealed class ServerRobustnessTests
{
    [Fact]
    public async Task Server_survives_malformed_chunks_and_keeps_serving()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await sim.StartAsync();
        var random = new Random(5);
        var hello = new UaHello { EndpointUrl = sim.EndpointUrl }.ToBytes();

        // A valid OPN chunk from a real exchange is a good seed for mutations.
        var open = await CaptureOpenAsync(sim.Server.Port);
        for (var i = 0; i < 40; i++)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", sim.Server.Port);
            byte[] payload;
            if (i % 3 == 0)
            {
                payload = new byte[random.Next(1, 300)];
                random.NextBytes(payload);
            }
            else
            {
                var mutated = (byte[])open.Clone();
                for (var f = 0; f < 3; f++)
                    mutated[random.Next(8, mutated.Length)] ^= (byte)random.Next(1, 256);
                payload = [.. hello, .. mutated];
            }

            await socket.SendAsync(payload);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var buffer = new byte[65536];
            try
            {
                // Read until the server closes or goes quiet; either is fine, hanging forever is not.
                while (await socket.ReceiveAsync(buffer, timeout.Token) > 0)
                {
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        await using var client = await EdgeCollector.OpcUa.Client.UaClient.ConnectAsync(new EdgeCollector.OpcUa.Client.UaClientOptions { EndpointUrl = sim.EndpointUrl });
        Assert.True((await client.ReadValueAsync(sim.TagId("F1", "State"))).Status.IsGood);
    }

    private static async Task<byte[]> CaptureOpenAsync(int port)
    {
        // Record what our client channel sends: Hello, then the OPN chunk.
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var recorderPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var connect = UaClientChannel.ConnectAsync($"opc.tcp://127.0.0.1:{recorderPort}", new UaClientChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(2) });
        using var server = await listener.AcceptSocketAsync();
        var buffer = new byte[65536];
        var n = await server.ReceiveAsync(buffer);
        var helloSize = BitConverter.ToInt32(buffer, 4);
        await server.SendAsync(new UaAcknowledge { ReceiveBufferSize = 65535, SendBufferSize = 65535 }.ToBytes());
        var received = new List<byte>(buffer[helloSize..n]);
        while (received.Count < 8 || received.Count < BitConverter.ToInt32([.. received], 4))
        {
            n = await server.ReceiveAsync(buffer);
            received.AddRange(buffer[..n]);
        }

        server.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => connect);
        Assert.True(port > 0);
        return [.. received];
    }
}
