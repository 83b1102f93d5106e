using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Server;

namespace EdgeCollector.Sim.OpcUa;

/// <summary>Turns on signing and encryption for the simulated PLC, as a real S7-1500 configured for security.</summary>
public static class FurnacePlcSecurity
{
    /// <summary>Every supported policy with Sign and with SignAndEncrypt.</summary>
    public static IReadOnlyList<UaEndpointSecurity> AllEndpoints { get; } =
        [.. UaSecurityPolicy.All.SelectMany(p => new[] { new UaEndpointSecurity(p, MessageSecurityMode.Sign), new UaEndpointSecurity(p, MessageSecurityMode.SignAndEncrypt) })];

    /// <summary>
    /// Server options with secure endpoints (all policies × Sign / SignAndEncrypt unless given), the application
    /// certificate from (or created in) <paramref name="store"/>, None for discovery only, and user name authentication
    /// when <paramref name="validateUser"/> is given (anonymous is then refused).
    /// </summary>
    public static UaServerOptions Secured(UaServerOptions options, UaCertificateStore store, Func<string, string, bool>? validateUser = null, IReadOnlyList<UaEndpointSecurity>? endpoints = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        var certificate = store.LoadOrCreateOwn(options.ApplicationUri, options.ApplicationName, [options.Host, "localhost", System.Net.Dns.GetHostName()]);
        return options with
        {
            SecureEndpoints = endpoints ?? AllEndpoints,
            OfferNone = false,
            Certificate = certificate,
            CertificateStore = store,
            ValidateUser = validateUser ?? options.ValidateUser,
            AllowAnonymous = validateUser is null && options.AllowAnonymous,
        };
    }
}
