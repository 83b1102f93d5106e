using System.Collections.Frozen;
using System.Globalization;

namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// An OPC UA StatusCode (OPC 10000-4 §7.39): severity in the top two bits, a sub-code in bits 16–27,
/// info bits in the low word. Compared and named by its full 32-bit value.
/// </summary>
public readonly record struct StatusCode(uint Code)
{
    /// <summary>True when the severity is Good (00).</summary>
    public bool IsGood => (Code & 0xC0000000) == 0;

    /// <summary>True when the severity is Uncertain (01).</summary>
    public bool IsUncertain => (Code & 0xC0000000) == 0x40000000;

    /// <summary>True when the severity is Bad (10 or 11).</summary>
    public bool IsBad => (Code & 0x80000000) != 0;

    /// <summary>The code without its info bits (low 16 bits), used for naming.</summary>
    public uint CodeWithoutInfoBits => Code & 0xFFFF0000;

    /// <summary>The symbolic name, e.g. "BadNodeIdUnknown", or the hex value when not in the table.</summary>
    public string Name => StatusCodes.NameOf(this);

    /// <inheritdoc />
    public override string ToString() => $"{Name} (0x{Code.ToString("X8", CultureInfo.InvariantCulture)})";

    /// <summary>Converts a raw code.</summary>
    public static implicit operator StatusCode(uint code) => new(code);
}

/// <summary>The common status codes of OPC 10000-4 §7.39 / OPC 10000-6 Annex A (StatusCode.csv).</summary>
public static class StatusCodes
{
    /// <summary>Good (0x00000000).</summary>
    public static readonly StatusCode Good = new(0x00000000);

    /// <summary>Uncertain (0x40000000).</summary>
    public static readonly StatusCode Uncertain = new(0x40000000);

    /// <summary>Bad (0x80000000).</summary>
    public static readonly StatusCode Bad = new(0x80000000);

    /// <summary>BadUnexpectedError (0x80010000).</summary>
    public static readonly StatusCode BadUnexpectedError = new(0x80010000);

    /// <summary>BadInternalError (0x80020000).</summary>
    public static readonly StatusCode BadInternalError = new(0x80020000);

    /// <summary>BadOutOfMemory (0x80030000).</summary>
    public static readonly StatusCode BadOutOfMemory = new(0x80030000);

    /// <summary>BadResourceUnavailable (0x80040000).</summary>
    public static readonly StatusCode BadResourceUnavailable = new(0x80040000);

    /// <summary>BadCommunicationError (0x80050000).</summary>
    public static readonly StatusCode BadCommunicationError = new(0x80050000);

    /// <summary>BadEncodingError (0x80060000).</summary>
    public static readonly StatusCode BadEncodingError = new(0x80060000);

    /// <summary>BadDecodingError (0x80070000).</summary>
    public static readonly StatusCode BadDecodingError = new(0x80070000);

    /// <summary>BadEncodingLimitsExceeded (0x80080000).</summary>
    public static readonly StatusCode BadEncodingLimitsExceeded = new(0x80080000);

    /// <summary>BadRequestTooLarge (0x80B80000).</summary>
    public static readonly StatusCode BadRequestTooLarge = new(0x80B80000);

    /// <summary>BadResponseTooLarge (0x80B90000).</summary>
    public static readonly StatusCode BadResponseTooLarge = new(0x80B90000);

    /// <summary>BadUnknownResponse (0x80090000).</summary>
    public static readonly StatusCode BadUnknownResponse = new(0x80090000);

    /// <summary>BadTimeout (0x800A0000).</summary>
    public static readonly StatusCode BadTimeout = new(0x800A0000);

    /// <summary>BadServiceUnsupported (0x800B0000).</summary>
    public static readonly StatusCode BadServiceUnsupported = new(0x800B0000);

    /// <summary>BadShutdown (0x800C0000).</summary>
    public static readonly StatusCode BadShutdown = new(0x800C0000);

    /// <summary>BadServerNotConnected (0x800D0000).</summary>
    public static readonly StatusCode BadServerNotConnected = new(0x800D0000);

    /// <summary>BadServerHalted (0x800E0000).</summary>
    public static readonly StatusCode BadServerHalted = new(0x800E0000);

    /// <summary>BadNothingToDo (0x800F0000).</summary>
    public static readonly StatusCode BadNothingToDo = new(0x800F0000);

    /// <summary>BadTooManyOperations (0x80100000).</summary>
    public static readonly StatusCode BadTooManyOperations = new(0x80100000);

    /// <summary>BadDataTypeIdUnknown (0x80110000).</summary>
    public static readonly StatusCode BadDataTypeIdUnknown = new(0x80110000);

    /// <summary>BadCertificateInvalid (0x80120000).</summary>
    public static readonly StatusCode BadCertificateInvalid = new(0x80120000);

    /// <summary>BadCertificateTimeInvalid (0x80140000).</summary>
    public static readonly StatusCode BadCertificateTimeInvalid = new(0x80140000);

    /// <summary>BadCertificateHostNameInvalid (0x80160000).</summary>
    public static readonly StatusCode BadCertificateHostNameInvalid = new(0x80160000);

    /// <summary>BadCertificateUriInvalid (0x80170000).</summary>
    public static readonly StatusCode BadCertificateUriInvalid = new(0x80170000);

    /// <summary>BadCertificateUseNotAllowed (0x80180000).</summary>
    public static readonly StatusCode BadCertificateUseNotAllowed = new(0x80180000);

    /// <summary>BadUserSignatureInvalid (0x80570000).</summary>
    public static readonly StatusCode BadUserSignatureInvalid = new(0x80570000);

    /// <summary>BadApplicationSignatureInvalid (0x80580000).</summary>
    public static readonly StatusCode BadApplicationSignatureInvalid = new(0x80580000);

    /// <summary>BadSecurityChecksFailed (0x80130000).</summary>
    public static readonly StatusCode BadSecurityChecksFailed = new(0x80130000);

    /// <summary>BadCertificateUntrusted (0x801A0000).</summary>
    public static readonly StatusCode BadCertificateUntrusted = new(0x801A0000);

    /// <summary>BadUserAccessDenied (0x801F0000).</summary>
    public static readonly StatusCode BadUserAccessDenied = new(0x801F0000);

    /// <summary>BadIdentityTokenInvalid (0x80200000).</summary>
    public static readonly StatusCode BadIdentityTokenInvalid = new(0x80200000);

    /// <summary>BadIdentityTokenRejected (0x80210000).</summary>
    public static readonly StatusCode BadIdentityTokenRejected = new(0x80210000);

    /// <summary>BadSecureChannelIdInvalid (0x80220000).</summary>
    public static readonly StatusCode BadSecureChannelIdInvalid = new(0x80220000);

    /// <summary>BadInvalidTimestamp (0x80230000).</summary>
    public static readonly StatusCode BadInvalidTimestamp = new(0x80230000);

    /// <summary>BadNonceInvalid (0x80240000).</summary>
    public static readonly StatusCode BadNonceInvalid = new(0x80240000);

    /// <summary>BadSessionIdInvalid (0x80250000).</summary>
    public static readonly StatusCode BadSessionIdInvalid = new(0x80250000);

    /// <summary>BadSessionClosed (0x80260000).</summary>
    public static readonly StatusCode BadSessionClosed = new(0x80260000);

    /// <summary>BadSessionNotActivated (0x80270000).</summary>
    public static readonly StatusCode BadSessionNotActivated = new(0x80270000);

    /// <summary>BadSubscriptionIdInvalid (0x80280000).</summary>
    public static readonly StatusCode BadSubscriptionIdInvalid = new(0x80280000);

    /// <summary>BadRequestHeaderInvalid (0x802A0000).</summary>
    public static readonly StatusCode BadRequestHeaderInvalid = new(0x802A0000);

    /// <summary>BadTimestampsToReturnInvalid (0x802B0000).</summary>
    public static readonly StatusCode BadTimestampsToReturnInvalid = new(0x802B0000);

    /// <summary>BadRequestCancelledByClient (0x802C0000).</summary>
    public static readonly StatusCode BadRequestCancelledByClient = new(0x802C0000);

    /// <summary>BadNoCommunication (0x80310000).</summary>
    public static readonly StatusCode BadNoCommunication = new(0x80310000);

    /// <summary>BadWaitingForInitialData (0x80320000).</summary>
    public static readonly StatusCode BadWaitingForInitialData = new(0x80320000);

    /// <summary>BadNodeIdInvalid (0x80330000).</summary>
    public static readonly StatusCode BadNodeIdInvalid = new(0x80330000);

    /// <summary>BadNodeIdUnknown (0x80340000).</summary>
    public static readonly StatusCode BadNodeIdUnknown = new(0x80340000);

    /// <summary>BadAttributeIdInvalid (0x80350000).</summary>
    public static readonly StatusCode BadAttributeIdInvalid = new(0x80350000);

    /// <summary>BadIndexRangeInvalid (0x80360000).</summary>
    public static readonly StatusCode BadIndexRangeInvalid = new(0x80360000);

    /// <summary>BadIndexRangeNoData (0x80370000).</summary>
    public static readonly StatusCode BadIndexRangeNoData = new(0x80370000);

    /// <summary>BadDataEncodingInvalid (0x80380000).</summary>
    public static readonly StatusCode BadDataEncodingInvalid = new(0x80380000);

    /// <summary>BadDataEncodingUnsupported (0x80390000).</summary>
    public static readonly StatusCode BadDataEncodingUnsupported = new(0x80390000);

    /// <summary>BadNotReadable (0x803A0000).</summary>
    public static readonly StatusCode BadNotReadable = new(0x803A0000);

    /// <summary>BadNotWritable (0x803B0000).</summary>
    public static readonly StatusCode BadNotWritable = new(0x803B0000);

    /// <summary>BadOutOfRange (0x803C0000).</summary>
    public static readonly StatusCode BadOutOfRange = new(0x803C0000);

    /// <summary>BadNotSupported (0x803D0000).</summary>
    public static readonly StatusCode BadNotSupported = new(0x803D0000);

    /// <summary>BadNotFound (0x803E0000).</summary>
    public static readonly StatusCode BadNotFound = new(0x803E0000);

    /// <summary>BadObjectDeleted (0x803F0000).</summary>
    public static readonly StatusCode BadObjectDeleted = new(0x803F0000);

    /// <summary>BadNotImplemented (0x80400000).</summary>
    public static readonly StatusCode BadNotImplemented = new(0x80400000);

    /// <summary>BadMonitoringModeInvalid (0x80410000).</summary>
    public static readonly StatusCode BadMonitoringModeInvalid = new(0x80410000);

    /// <summary>BadMonitoredItemIdInvalid (0x80420000).</summary>
    public static readonly StatusCode BadMonitoredItemIdInvalid = new(0x80420000);

    /// <summary>BadMonitoredItemFilterInvalid (0x80430000).</summary>
    public static readonly StatusCode BadMonitoredItemFilterInvalid = new(0x80430000);

    /// <summary>BadMonitoredItemFilterUnsupported (0x80440000).</summary>
    public static readonly StatusCode BadMonitoredItemFilterUnsupported = new(0x80440000);

    /// <summary>BadFilterNotAllowed (0x80450000).</summary>
    public static readonly StatusCode BadFilterNotAllowed = new(0x80450000);

    /// <summary>BadContinuationPointInvalid (0x804A0000).</summary>
    public static readonly StatusCode BadContinuationPointInvalid = new(0x804A0000);

    /// <summary>BadNoContinuationPoints (0x804B0000).</summary>
    public static readonly StatusCode BadNoContinuationPoints = new(0x804B0000);

    /// <summary>BadReferenceTypeIdInvalid (0x804C0000).</summary>
    public static readonly StatusCode BadReferenceTypeIdInvalid = new(0x804C0000);

    /// <summary>BadBrowseDirectionInvalid (0x804D0000).</summary>
    public static readonly StatusCode BadBrowseDirectionInvalid = new(0x804D0000);

    /// <summary>BadNodeNotInView (0x804E0000).</summary>
    public static readonly StatusCode BadNodeNotInView = new(0x804E0000);

    /// <summary>BadSecurityModeRejected (0x80540000).</summary>
    public static readonly StatusCode BadSecurityModeRejected = new(0x80540000);

    /// <summary>BadSecurityPolicyRejected (0x80550000).</summary>
    public static readonly StatusCode BadSecurityPolicyRejected = new(0x80550000);

    /// <summary>BadTooManySessions (0x80560000).</summary>
    public static readonly StatusCode BadTooManySessions = new(0x80560000);

    /// <summary>BadNoMatch (0x806F0000).</summary>
    public static readonly StatusCode BadNoMatch = new(0x806F0000);

    /// <summary>BadBrowseNameInvalid (0x80600000).</summary>
    public static readonly StatusCode BadBrowseNameInvalid = new(0x80600000);

    /// <summary>BadTypeMismatch (0x80740000).</summary>
    public static readonly StatusCode BadTypeMismatch = new(0x80740000);

    /// <summary>BadTooManySubscriptions (0x80770000).</summary>
    public static readonly StatusCode BadTooManySubscriptions = new(0x80770000);

    /// <summary>BadTooManyPublishRequests (0x80780000).</summary>
    public static readonly StatusCode BadTooManyPublishRequests = new(0x80780000);

    /// <summary>BadNoSubscription (0x80790000).</summary>
    public static readonly StatusCode BadNoSubscription = new(0x80790000);

    /// <summary>BadSequenceNumberUnknown (0x807A0000).</summary>
    public static readonly StatusCode BadSequenceNumberUnknown = new(0x807A0000);

    /// <summary>BadMessageNotAvailable (0x807B0000).</summary>
    public static readonly StatusCode BadMessageNotAvailable = new(0x807B0000);

    /// <summary>BadTcpServerTooBusy (0x807D0000).</summary>
    public static readonly StatusCode BadTcpServerTooBusy = new(0x807D0000);

    /// <summary>BadTcpMessageTypeInvalid (0x807E0000).</summary>
    public static readonly StatusCode BadTcpMessageTypeInvalid = new(0x807E0000);

    /// <summary>BadTcpSecureChannelUnknown (0x807F0000).</summary>
    public static readonly StatusCode BadTcpSecureChannelUnknown = new(0x807F0000);

    /// <summary>BadTcpMessageTooLarge (0x80800000).</summary>
    public static readonly StatusCode BadTcpMessageTooLarge = new(0x80800000);

    /// <summary>BadTcpNotEnoughResources (0x80810000).</summary>
    public static readonly StatusCode BadTcpNotEnoughResources = new(0x80810000);

    /// <summary>BadTcpInternalError (0x80820000).</summary>
    public static readonly StatusCode BadTcpInternalError = new(0x80820000);

    /// <summary>BadTcpEndpointUrlInvalid (0x80830000).</summary>
    public static readonly StatusCode BadTcpEndpointUrlInvalid = new(0x80830000);

    /// <summary>BadRequestInterrupted (0x80840000).</summary>
    public static readonly StatusCode BadRequestInterrupted = new(0x80840000);

    /// <summary>BadRequestTimeout (0x80850000).</summary>
    public static readonly StatusCode BadRequestTimeout = new(0x80850000);

    /// <summary>BadSecureChannelClosed (0x80860000).</summary>
    public static readonly StatusCode BadSecureChannelClosed = new(0x80860000);

    /// <summary>BadSecureChannelTokenUnknown (0x80870000).</summary>
    public static readonly StatusCode BadSecureChannelTokenUnknown = new(0x80870000);

    /// <summary>BadSequenceNumberInvalid (0x80880000).</summary>
    public static readonly StatusCode BadSequenceNumberInvalid = new(0x80880000);

    /// <summary>BadProtocolVersionUnsupported (0x80BE0000).</summary>
    public static readonly StatusCode BadProtocolVersionUnsupported = new(0x80BE0000);

    /// <summary>BadConfigurationError (0x80890000).</summary>
    public static readonly StatusCode BadConfigurationError = new(0x80890000);

    /// <summary>BadNotConnected (0x808A0000).</summary>
    public static readonly StatusCode BadNotConnected = new(0x808A0000);

    /// <summary>BadDeviceFailure (0x808B0000).</summary>
    public static readonly StatusCode BadDeviceFailure = new(0x808B0000);

    /// <summary>BadSensorFailure (0x808C0000).</summary>
    public static readonly StatusCode BadSensorFailure = new(0x808C0000);

    /// <summary>BadOutOfService (0x808D0000).</summary>
    public static readonly StatusCode BadOutOfService = new(0x808D0000);

    /// <summary>BadDeadbandFilterInvalid (0x808E0000).</summary>
    public static readonly StatusCode BadDeadbandFilterInvalid = new(0x808E0000);

    /// <summary>BadTooManyMonitoredItems (0x80DB0000).</summary>
    public static readonly StatusCode BadTooManyMonitoredItems = new(0x80DB0000);

    /// <summary>BadInvalidArgument (0x80AB0000).</summary>
    public static readonly StatusCode BadInvalidArgument = new(0x80AB0000);

    /// <summary>BadInvalidState (0x80AF0000).</summary>
    public static readonly StatusCode BadInvalidState = new(0x80AF0000);

    /// <summary>BadWriteNotSupported (0x80730000).</summary>
    public static readonly StatusCode BadWriteNotSupported = new(0x80730000);

    /// <summary>BadMaxAgeInvalid (0x80700000).</summary>
    public static readonly StatusCode BadMaxAgeInvalid = new(0x80700000);

    /// <summary>BadDataLost (0x809D0000).</summary>
    public static readonly StatusCode BadDataLost = new(0x809D0000);

    /// <summary>GoodSubscriptionTransferred (0x002D0000).</summary>
    public static readonly StatusCode GoodSubscriptionTransferred = new(0x002D0000);

    /// <summary>GoodCompletesAsynchronously (0x002E0000).</summary>
    public static readonly StatusCode GoodCompletesAsynchronously = new(0x002E0000);

    /// <summary>GoodOverload (0x002F0000).</summary>
    public static readonly StatusCode GoodOverload = new(0x002F0000);

    /// <summary>GoodClamped (0x00300000).</summary>
    public static readonly StatusCode GoodClamped = new(0x00300000);

    /// <summary>GoodNoData (0x00A50000).</summary>
    public static readonly StatusCode GoodNoData = new(0x00A50000);

    /// <summary>GoodMoreData (0x00A60000).</summary>
    public static readonly StatusCode GoodMoreData = new(0x00A60000);

    /// <summary>UncertainLastUsableValue (0x40900000).</summary>
    public static readonly StatusCode UncertainLastUsableValue = new(0x40900000);

    /// <summary>UncertainNoCommunicationLastUsableValue (0x408F0000).</summary>
    public static readonly StatusCode UncertainNoCommunicationLastUsableValue = new(0x408F0000);

    /// <summary>UncertainSubstituteValue (0x40910000).</summary>
    public static readonly StatusCode UncertainSubstituteValue = new(0x40910000);

    /// <summary>UncertainInitialValue (0x40920000).</summary>
    public static readonly StatusCode UncertainInitialValue = new(0x40920000);

    /// <summary>UncertainSensorNotAccurate (0x40930000).</summary>
    public static readonly StatusCode UncertainSensorNotAccurate = new(0x40930000);

    /// <summary>UncertainEngineeringUnitsExceeded (0x40940000).</summary>
    public static readonly StatusCode UncertainEngineeringUnitsExceeded = new(0x40940000);

    /// <summary>UncertainSubNormal (0x40950000).</summary>
    public static readonly StatusCode UncertainSubNormal = new(0x40950000);

    /// <summary>BadServerUriInvalid (0x804F0000).</summary>
    public static readonly StatusCode BadServerUriInvalid = new(0x804F0000);

    /// <summary>BadNoDataAvailable (0x80B10000).</summary>
    public static readonly StatusCode BadNoDataAvailable = new(0x80B10000);

    /// <summary>BadWouldBlock (0x80B50000).</summary>
    public static readonly StatusCode BadWouldBlock = new(0x80B50000);

    /// <summary>BadNoData (0x809B0000).</summary>
    public static readonly StatusCode BadNoData = new(0x809B0000);

    /// <summary>BadConnectionClosed (0x80AE0000).</summary>
    public static readonly StatusCode BadConnectionClosed = new(0x80AE0000);

    /// <summary>BadConnectionRejected (0x80AC0000).</summary>
    public static readonly StatusCode BadConnectionRejected = new(0x80AC0000);

    /// <summary>BadDisconnect (0x80AD0000).</summary>
    public static readonly StatusCode BadDisconnect = new(0x80AD0000);

    /// <summary>BadRequestTypeInvalid (0x80530000).</summary>
    public static readonly StatusCode BadRequestTypeInvalid = new(0x80530000);

    /// <summary>BadIdentityChangeNotSupported (0x80C60000).</summary>
    public static readonly StatusCode BadIdentityChangeNotSupported = new(0x80C60000);

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [0x00000000] = "Good",
        [0x40000000] = "Uncertain",
        [0x80000000] = "Bad",
        [0x80010000] = "BadUnexpectedError",
        [0x80020000] = "BadInternalError",
        [0x80030000] = "BadOutOfMemory",
        [0x80040000] = "BadResourceUnavailable",
        [0x80050000] = "BadCommunicationError",
        [0x80060000] = "BadEncodingError",
        [0x80070000] = "BadDecodingError",
        [0x80080000] = "BadEncodingLimitsExceeded",
        [0x80B80000] = "BadRequestTooLarge",
        [0x80B90000] = "BadResponseTooLarge",
        [0x80090000] = "BadUnknownResponse",
        [0x800A0000] = "BadTimeout",
        [0x800B0000] = "BadServiceUnsupported",
        [0x800C0000] = "BadShutdown",
        [0x800D0000] = "BadServerNotConnected",
        [0x800E0000] = "BadServerHalted",
        [0x800F0000] = "BadNothingToDo",
        [0x80100000] = "BadTooManyOperations",
        [0x80110000] = "BadDataTypeIdUnknown",
        [0x80120000] = "BadCertificateInvalid",
        [0x80140000] = "BadCertificateTimeInvalid",
        [0x80160000] = "BadCertificateHostNameInvalid",
        [0x80170000] = "BadCertificateUriInvalid",
        [0x80180000] = "BadCertificateUseNotAllowed",
        [0x80570000] = "BadUserSignatureInvalid",
        [0x80580000] = "BadApplicationSignatureInvalid",
        [0x80130000] = "BadSecurityChecksFailed",
        [0x801A0000] = "BadCertificateUntrusted",
        [0x801F0000] = "BadUserAccessDenied",
        [0x80200000] = "BadIdentityTokenInvalid",
        [0x80210000] = "BadIdentityTokenRejected",
        [0x80220000] = "BadSecureChannelIdInvalid",
        [0x80230000] = "BadInvalidTimestamp",
        [0x80240000] = "BadNonceInvalid",
        [0x80250000] = "BadSessionIdInvalid",
        [0x80260000] = "BadSessionClosed",
        [0x80270000] = "BadSessionNotActivated",
        [0x80280000] = "BadSubscriptionIdInvalid",
        [0x802A0000] = "BadRequestHeaderInvalid",
        [0x802B0000] = "BadTimestampsToReturnInvalid",
        [0x802C0000] = "BadRequestCancelledByClient",
        [0x80310000] = "BadNoCommunication",
        [0x80320000] = "BadWaitingForInitialData",
        [0x80330000] = "BadNodeIdInvalid",
        [0x80340000] = "BadNodeIdUnknown",
        [0x80350000] = "BadAttributeIdInvalid",
        [0x80360000] = "BadIndexRangeInvalid",
        [0x80370000] = "BadIndexRangeNoData",
        [0x80380000] = "BadDataEncodingInvalid",
        [0x80390000] = "BadDataEncodingUnsupported",
        [0x803A0000] = "BadNotReadable",
        [0x803B0000] = "BadNotWritable",
        [0x803C0000] = "BadOutOfRange",
        [0x803D0000] = "BadNotSupported",
        [0x803E0000] = "BadNotFound",
        [0x803F0000] = "BadObjectDeleted",
        [0x80400000] = "BadNotImplemented",
        [0x80410000] = "BadMonitoringModeInvalid",
        [0x80420000] = "BadMonitoredItemIdInvalid",
        [0x80430000] = "BadMonitoredItemFilterInvalid",
        [0x80440000] = "BadMonitoredItemFilterUnsupported",
        [0x80450000] = "BadFilterNotAllowed",
        [0x804A0000] = "BadContinuationPointInvalid",
        [0x804B0000] = "BadNoContinuationPoints",
        [0x804C0000] = "BadReferenceTypeIdInvalid",
        [0x804D0000] = "BadBrowseDirectionInvalid",
        [0x804E0000] = "BadNodeNotInView",
        [0x80540000] = "BadSecurityModeRejected",
        [0x80550000] = "BadSecurityPolicyRejected",
        [0x80560000] = "BadTooManySessions",
        [0x806F0000] = "BadNoMatch",
        [0x80600000] = "BadBrowseNameInvalid",
        [0x80740000] = "BadTypeMismatch",
        [0x80770000] = "BadTooManySubscriptions",
        [0x80780000] = "BadTooManyPublishRequests",
        [0x80790000] = "BadNoSubscription",
        [0x807A0000] = "BadSequenceNumberUnknown",
        [0x807B0000] = "BadMessageNotAvailable",
        [0x807D0000] = "BadTcpServerTooBusy",
        [0x807E0000] = "BadTcpMessageTypeInvalid",
        [0x807F0000] = "BadTcpSecureChannelUnknown",
        [0x80800000] = "BadTcpMessageTooLarge",
        [0x80810000] = "BadTcpNotEnoughResources",
        [0x80820000] = "BadTcpInternalError",
        [0x80830000] = "BadTcpEndpointUrlInvalid",
        [0x80840000] = "BadRequestInterrupted",
        [0x80850000] = "BadRequestTimeout",
        [0x80860000] = "BadSecureChannelClosed",
        [0x80870000] = "BadSecureChannelTokenUnknown",
        [0x80880000] = "BadSequenceNumberInvalid",
        [0x80BE0000] = "BadProtocolVersionUnsupported",
        [0x80890000] = "BadConfigurationError",
        [0x808A0000] = "BadNotConnected",
        [0x808B0000] = "BadDeviceFailure",
        [0x808C0000] = "BadSensorFailure",
        [0x808D0000] = "BadOutOfService",
        [0x808E0000] = "BadDeadbandFilterInvalid",
        [0x80DB0000] = "BadTooManyMonitoredItems",
        [0x80AB0000] = "BadInvalidArgument",
        [0x80AF0000] = "BadInvalidState",
        [0x80730000] = "BadWriteNotSupported",
        [0x80700000] = "BadMaxAgeInvalid",
        [0x809D0000] = "BadDataLost",
        [0x002D0000] = "GoodSubscriptionTransferred",
        [0x002E0000] = "GoodCompletesAsynchronously",
        [0x002F0000] = "GoodOverload",
        [0x00300000] = "GoodClamped",
        [0x00A50000] = "GoodNoData",
        [0x00A60000] = "GoodMoreData",
        [0x40900000] = "UncertainLastUsableValue",
        [0x408F0000] = "UncertainNoCommunicationLastUsableValue",
        [0x40910000] = "UncertainSubstituteValue",
        [0x40920000] = "UncertainInitialValue",
        [0x40930000] = "UncertainSensorNotAccurate",
        [0x40940000] = "UncertainEngineeringUnitsExceeded",
        [0x40950000] = "UncertainSubNormal",
        [0x804F0000] = "BadServerUriInvalid",
        [0x80B10000] = "BadNoDataAvailable",
        [0x80B50000] = "BadWouldBlock",
        [0x809B0000] = "BadNoData",
        [0x80AE0000] = "BadConnectionClosed",
        [0x80AC0000] = "BadConnectionRejected",
        [0x80AD0000] = "BadDisconnect",
        [0x80530000] = "BadRequestTypeInvalid",
        [0x80C60000] = "BadIdentityChangeNotSupported",
    }.ToFrozenDictionary();

    /// <summary>The symbolic name of a code (ignoring info bits), or its hex value.</summary>
    public static string NameOf(StatusCode code) =>
        Names.TryGetValue(code.CodeWithoutInfoBits, out var name)
            ? name
            : "0x" + code.Code.ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>Looks a code up by its symbolic name.</summary>
    public static bool TryParse(string name, out StatusCode code)
    {
        foreach (var pair in Names)
        {
            if (pair.Value == name)
            {
                code = new StatusCode(pair.Key);
                return true;
            }
        }

        code = default;
        return false;
    }
}
