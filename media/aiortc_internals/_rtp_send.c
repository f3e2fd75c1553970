/* The last steps of one forwarded RTP copy, in C: pack the header, keep the
 * sender report's counters, SRTP-protect, send on the nominated ICE pair.
 *
 * This is RtpWriter.write and send_rtp (senders.py) step for step; the Python
 * there is the fallback (no compiler, or CAUCUS_RTP_SEND=python) and the
 * reference tests/media/test_rtp_send.py holds this to.  Per copy it touches
 * the same aiortc objects the Python does, but runs no bytecode and builds no
 * intermediate bytes: the header is packed, protected and sent from one
 * stack buffer, and the datagram goes to the pair's socket with one sendto(2).
 *
 * What is looked up per packet (the sender's transport, the DTLS state and SRTP
 * session, the nominated pair and its datagram transport) is looked up per
 * packet here too, and what is derived from it (the srtp_t, the socket and
 * sockaddr) is cached while the object it came from is the same one.  A datagram
 * transport that is not a plain socket (tests put impaired links there) gets the
 * packet through its own sendto, as the Python does.
 */
#include "_rtp_send.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BUFFER_SIZE 1500     /* pylibsrtp's buffer: a packet and its SRTP trailer */
#define SRTP_MAX_TRAILER 144 /* SRTP_MAX_TAG_LEN + SRTP_MAX_MKI_LEN (libsrtp 2) */

typedef int (*srtp_protect_fn)(void *ctx, void *rtp, int *len);

/* set once by configure() */
static srtp_protect_fn srtp_protect;
static Py_ssize_t max_packet;   /* BUFFER_SIZE less SRTP's largest trailer */
static PyObject *connected;     /* aiortc's DTLS State.CONNECTED */
static PyObject *srtp_context;  /* session -> its srtp_t as an int */
static PyObject *raw_socket;    /* datagram transport -> its socket's fd, or -1 */
static PyObject *SrtpError;

static PyObject *s_transport, *s_state, *s_tx_srtp, *s_connection, *s_nominated,
    *s_protocol, *s_remote_addr, *s_is_closing, *s_sendto, *s_ntp_timestamp,
    *s_rtp_timestamp, *s_octet_count, *s_packet_count, *s_tx_bytes, *s_tx_packets,
    *one;

typedef struct {
    PyObject_HEAD
    PyObject *sender;       /* RTCRtpSender */
    SentHistory *history;   /* where a NACK finds what was sent */
    uint8_t payload_type;
    uint32_t ssrc;
    uint8_t mid[17]; /* the mid element, one-byte form (RFC 8285): id/len, value */
    Py_ssize_t mid_len;
    uint8_t abs_id, level_id; /* 0: not negotiated */
    uint64_t octets, packets;
    /* derived from the objects of the last packet, while they are the same */
    PyObject *dtls, *nominated;  /* dtls.transport._connection._nominated */
    PyObject *session;           /* dtls._tx_srtp */
    void *srtp;
    PyObject *pair, *datagrams; /* the nominated pair, its datagram transport */
    int fd;                     /* -1: through datagrams.sendto */
    struct sockaddr_storage to;
    socklen_t to_len;
} RtpSend;

static uint64_t
ntp_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seconds = (uint64_t)now.tv_sec + 2208988800u;
    uint64_t fraction = ((uint64_t)now.tv_nsec << 32) / 1000000000u;
    return (seconds << 32) | fraction;
}

static Py_ssize_t
pack_header(RtpSend *self, uint8_t *out, uint16_t seq, uint32_t ts, int marker,
            uint32_t abs_send_time, int level_byte /* -1: none */)
{
    uint8_t extension[32];
    Py_ssize_t n = 0;
    memcpy(extension, self->mid, self->mid_len);
    n += self->mid_len;
    if (self->abs_id) {
        extension[n++] = (uint8_t)(self->abs_id << 4 | 2);
        extension[n++] = (uint8_t)(abs_send_time >> 16);
        extension[n++] = (uint8_t)(abs_send_time >> 8);
        extension[n++] = (uint8_t)abs_send_time;
    }
    if (self->level_id && level_byte >= 0) {
        extension[n++] = (uint8_t)(self->level_id << 4);
        extension[n++] = (uint8_t)level_byte;
    }
    out[0] = n ? 0x90 : 0x80;
    out[1] = (uint8_t)((marker ? 0x80 : 0) | self->payload_type);
    out[2] = (uint8_t)(seq >> 8);
    out[3] = (uint8_t)seq;
    out[4] = (uint8_t)(ts >> 24);
    out[5] = (uint8_t)(ts >> 16);
    out[6] = (uint8_t)(ts >> 8);
    out[7] = (uint8_t)ts;
    out[8] = (uint8_t)(self->ssrc >> 24);
    out[9] = (uint8_t)(self->ssrc >> 16);
    out[10] = (uint8_t)(self->ssrc >> 8);
    out[11] = (uint8_t)self->ssrc;
    if (!n)
        return 12;
    while (n % 4)
        extension[n++] = 0;
    out[12] = 0xBE;
    out[13] = 0xDE;
    out[14] = (uint8_t)((n / 4) >> 8);
    out[15] = (uint8_t)(n / 4);
    memcpy(out + 16, extension, n);
    return 16 + n;
}

/* obj.name = value (a new int); 0, or -1 with an exception set */
static int
set_int(PyObject *obj, PyObject *name, unsigned long long value)
{
    PyObject *number = PyLong_FromUnsignedLongLong(value);
    if (number == NULL)
        return -1;
    int result = PyObject_SetAttr(obj, name, number);
    Py_DECREF(number);
    return result;
}

/* obj.name += amount, for counters others add to as well */
static int
add_int(PyObject *obj, PyObject *name, unsigned long long amount)
{
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    unsigned long long before = PyLong_AsUnsignedLongLong(value);
    Py_DECREF(value);
    return PyErr_Occurred() ? -1 : set_int(obj, name, before + amount);
}

/* obj.first.second (a new reference), or NULL with an exception set */
static PyObject *
get_path(PyObject *obj, PyObject *first, PyObject *second)
{
    PyObject *middle = PyObject_GetAttr(obj, first);
    if (middle == NULL)
        return NULL;
    PyObject *last = PyObject_GetAttr(middle, second);
    Py_DECREF(middle);
    return last;
}

/* The DTLS transport changed: find its ICE connection's nominated pairs. */
static int
follow_dtls(RtpSend *self, PyObject *dtls)
{
    PyObject *connection = get_path(dtls, s_transport, s_connection);
    if (connection == NULL)
        return -1;
    PyObject *nominated = PyObject_GetAttr(connection, s_nominated);
    Py_DECREF(connection);
    if (nominated == NULL)
        return -1;
    if (!PyDict_Check(nominated)) {
        Py_DECREF(nominated);
        PyErr_SetString(PyExc_TypeError, "the ICE connection's _nominated is not a dict");
        return -1;
    }
    Py_INCREF(dtls);
    Py_XSETREF(self->dtls, dtls);
    Py_XSETREF(self->nominated, nominated);
    return 0;
}

/* The SRTP session changed: find its srtp_t. */
static int
follow_session(RtpSend *self, PyObject *session)
{
    PyObject *address = PyObject_CallOneArg(srtp_context, session);
    if (address == NULL)
        return -1;
    void *srtp = PyLong_AsVoidPtr(address);
    Py_DECREF(address);
    if (srtp == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "an SRTP session without a context");
        return -1;
    }
    Py_INCREF(session);
    Py_XSETREF(self->session, session);
    self->srtp = srtp;
    return 0;
}

/* The nominated pair or its datagram transport changed: the socket to send on
 * and the sockaddr to send to, or fd -1 for the transport's own sendto (not a
 * plain socket; an address with IPv6 flow and scope, or one getaddrinfo does not
 * take as numeric).  Nothing is kept unless all of it was found. */
static int
follow_pair(RtpSend *self, PyObject *pair, PyObject *datagrams)
{
    PyObject *fd = PyObject_CallOneArg(raw_socket, datagrams);
    if (fd == NULL)
        return -1;
    long descriptor = PyLong_AsLong(fd);
    Py_DECREF(fd);
    if (descriptor == -1 && PyErr_Occurred())
        return -1;
    struct sockaddr_storage to;
    socklen_t to_len = 0;
    if (descriptor >= 0) {
        PyObject *address = PyObject_GetAttr(pair, s_remote_addr); /* a new tuple per call */
        if (address == NULL)
            return -1;
        if (PyTuple_Check(address) && PyTuple_GET_SIZE(address) == 2
            && PyUnicode_Check(PyTuple_GET_ITEM(address, 0))
            && PyLong_Check(PyTuple_GET_ITEM(address, 1))) {
            const char *host = PyUnicode_AsUTF8(PyTuple_GET_ITEM(address, 0));
            long port = PyLong_AsLong(PyTuple_GET_ITEM(address, 1));
            if (host == NULL || (port == -1 && PyErr_Occurred())) {
                Py_DECREF(address);
                return -1;
            }
            char service[24];
            snprintf(service, sizeof service, "%ld", port);
            struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                                     .ai_socktype = SOCK_DGRAM};
            struct addrinfo *found = NULL;
            if (getaddrinfo(host, service, &hints, &found) == 0 && found != NULL
                && found->ai_addrlen <= sizeof to) {
                memcpy(&to, found->ai_addr, found->ai_addrlen);
                to_len = found->ai_addrlen;
            }
            if (found != NULL)
                freeaddrinfo(found);
        }
        Py_DECREF(address);
    }
    Py_INCREF(pair);
    Py_XSETREF(self->pair, pair);
    Py_INCREF(datagrams);
    Py_XSETREF(self->datagrams, datagrams);
    self->fd = to_len ? (int)descriptor : -1;
    if (to_len) {
        memcpy(&self->to, &to, to_len);
        self->to_len = to_len;
    }
    return 0;
}

/* send_rtp: protect and send the packet in buffer[0:length], if DTLS is up and a
 * pair is nominated (dropped silently otherwise, as the Python does). */
static PyObject *
send_protected(RtpSend *self, uint8_t *buffer, int length)
{
    PyObject *dtls = PyObject_GetAttr(self->sender, s_transport);
    if (dtls == NULL)
        return NULL;
    PyObject *result = NULL, *state = NULL, *session = NULL, *pair = NULL, *datagrams = NULL;
    state = PyObject_GetAttr(dtls, s_state);
    if (state == NULL)
        goto done;
    if (state != connected) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (dtls != self->dtls && follow_dtls(self, dtls) < 0)
        goto done;
    session = PyObject_GetAttr(dtls, s_tx_srtp);
    if (session == NULL)
        goto done;
    if (session != self->session && follow_session(self, session) < 0)
        goto done;
    int status = srtp_protect(self->srtp, buffer, &length);
    if (status != 0) {
        PyErr_Format(SrtpError, "srtp_protect failed: %d", status);
        goto done;
    }
    pair = Py_XNewRef(PyDict_GetItemWithError(self->nominated, one));
    if (pair == NULL) {
        if (!PyErr_Occurred())
            result = Py_NewRef(Py_None);
        goto done;
    }
    datagrams = get_path(pair, s_protocol, s_transport);
    if (datagrams == NULL)
        goto done;
    if ((pair != self->pair || datagrams != self->datagrams)
        && follow_pair(self, pair, datagrams) < 0)
        goto done;
    if (self->fd >= 0) {
        PyObject *closing = PyObject_CallMethodNoArgs(datagrams, s_is_closing);
        if (closing == NULL)
            goto done;
        int closed = PyObject_IsTrue(closing);
        Py_DECREF(closing);
        if (closed) { /* its socket may be gone, and its number another's */
            if (closed > 0)
                result = Py_NewRef(Py_None);
            goto done;
        }
        /* a datagram the kernel refuses (a full send buffer, where the loop would have
           queued it) is lost, as one at a full queue on the wire would be */
        (void)sendto(self->fd, buffer, (size_t)length, 0, (struct sockaddr *)&self->to,
                     self->to_len);
    } else {
        PyObject *address = PyObject_GetAttr(pair, s_remote_addr);
        if (address == NULL)
            goto done;
        PyObject *data = PyBytes_FromStringAndSize((const char *)buffer, length);
        PyObject *sent = data == NULL ? NULL
                                      : PyObject_CallMethodObjArgs(datagrams, s_sendto, data,
                                                                   address, NULL);
        Py_DECREF(address);
        Py_XDECREF(data);
        if (sent == NULL)
            goto done;
        Py_DECREF(sent);
    }
    if (add_int(dtls, s_tx_bytes, length) < 0 || add_int(dtls, s_tx_packets, 1) < 0)
        goto done;
    result = Py_NewRef(Py_None);
done:
    Py_DECREF(dtls);
    Py_XDECREF(state);
    Py_XDECREF(session);
    Py_XDECREF(pair);
    Py_XDECREF(datagrams);
    return result;
}

PyDoc_STRVAR(write_doc,
"write(sequence_number, timestamp, marker, payload, audio_level)\n\n"
"RtpWriter.write: pack the packet's header, file it in the NACK history, count\n"
"it for the sender reports, protect it and send it.  A packet too long to protect\n"
"(a publisher's, longer than the forwarded header leaves room for) is dropped.");

static PyObject *
RtpSend_write(RtpSend *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "write(sequence_number, timestamp, marker, payload, audio_level)");
        return NULL;
    }
    if (self->history == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "RtpSend.__init__ was not called");
        return NULL;
    }
    uint16_t seq;
    uint32_t ts;
    int marker;
    if (header_fields(args, &seq, &ts, &marker) < 0)
        return NULL;
    PyObject *payload = args[3], *level = args[4];
    if (!PyBytes_Check(payload)) {
        PyErr_SetString(PyExc_TypeError, "payload must be bytes");
        return NULL;
    }
    int level_byte = -1;
    if (level != Py_None) {
        if (!PyTuple_Check(level) || PyTuple_GET_SIZE(level) != 2) {
            PyErr_SetString(PyExc_TypeError, "audio_level must be (voiced, level) or None");
            return NULL;
        }
        int voiced = PyObject_IsTrue(PyTuple_GET_ITEM(level, 0));
        if (voiced < 0)
            return NULL;
        long value = PyLong_AsLong(PyTuple_GET_ITEM(level, 1));
        if (value == -1 && PyErr_Occurred())
            return NULL;
        level_byte = (voiced ? 0x80 : 0) | (int)(value & 0x7F);
    }
    uint64_t ntp = ntp_now();
    uint32_t abs_send_time = (uint32_t)(ntp >> 14) & 0x00FFFFFF;

    _Alignas(8) uint8_t buffer[BUFFER_SIZE]; /* libsrtp reads the header as words */
    Py_ssize_t header = pack_header(self, buffer, seq, ts, marker, abs_send_time, level_byte);
    Py_ssize_t size = PyBytes_GET_SIZE(payload);
    if (header + size > max_packet) /* a publisher's packet too big to forward: dropped */
        Py_RETURN_NONE;
    memcpy(buffer + header, PyBytes_AS_STRING(payload), size);

    if (sent_history_file(self->history, seq, ts, marker, payload, abs_send_time, level) < 0)
        return NULL;

    /* what the sender's RTCP loop puts in its sender reports */
    self->octets += (uint64_t)size;
    self->packets += 1;
    if (set_int(self->sender, s_ntp_timestamp, ntp) < 0
        || set_int(self->sender, s_rtp_timestamp, ts) < 0
        || set_int(self->sender, s_octet_count, self->octets) < 0
        || set_int(self->sender, s_packet_count, self->packets) < 0)
        return NULL;
    return send_protected(self, buffer, (int)(header + size));
}

static int
RtpSend_init(RtpSend *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"sender", "history", "payload_type", "ssrc", "mid",
                               "abs_send_time_id", "audio_level_id", NULL};
    PyObject *sender, *history;
    int payload_type, abs_id, level_id;
    unsigned long ssrc;
    Py_buffer mid;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!iky*ii", keywords, &sender,
                                     &SentHistoryType, &history, &payload_type, &ssrc, &mid,
                                     &abs_id, &level_id))
        return -1;
    if (srtp_protect == NULL) {
        PyBuffer_Release(&mid);
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return -1;
    }
    if (((SentHistory *)history)->size <= 0) {
        PyBuffer_Release(&mid);
        PyErr_SetString(PyExc_ValueError, "SentHistory.__init__ was not called");
        return -1;
    }
    if (mid.len > (Py_ssize_t)sizeof self->mid || payload_type < 0 || payload_type > 127
        || abs_id < 0 || abs_id > 14 || level_id < 0 || level_id > 14) {
        PyBuffer_Release(&mid);
        PyErr_SetString(PyExc_ValueError, "not a header the one-byte form can carry");
        return -1;
    }
    memcpy(self->mid, mid.buf, mid.len);
    self->mid_len = mid.len;
    PyBuffer_Release(&mid);
    self->payload_type = (uint8_t)payload_type;
    self->ssrc = (uint32_t)ssrc;
    self->abs_id = (uint8_t)abs_id;
    self->level_id = (uint8_t)level_id;
    self->fd = -1;
    Py_INCREF(sender);
    Py_XSETREF(self->sender, sender);
    Py_INCREF(history);
    Py_XSETREF(self->history, (SentHistory *)history);
    /* the counters go on from the sender's own */
    PyObject *octets = PyObject_GetAttr(sender, s_octet_count);
    PyObject *packets = octets ? PyObject_GetAttr(sender, s_packet_count) : NULL;
    if (packets != NULL) {
        self->octets = PyLong_AsUnsignedLongLong(octets);
        self->packets = PyLong_AsUnsignedLongLong(packets);
    }
    Py_XDECREF(octets);
    Py_XDECREF(packets);
    return PyErr_Occurred() ? -1 : 0;
}

static int
RtpSend_traverse(RtpSend *self, visitproc visit, void *arg)
{
    Py_VISIT(self->sender);
    Py_VISIT(self->history);
    Py_VISIT(self->dtls);
    Py_VISIT(self->nominated);
    Py_VISIT(self->session);
    Py_VISIT(self->pair);
    Py_VISIT(self->datagrams);
    return 0;
}

static int
RtpSend_clear(RtpSend *self)
{
    Py_CLEAR(self->sender);
    Py_CLEAR(self->history);
    Py_CLEAR(self->dtls);
    Py_CLEAR(self->nominated);
    Py_CLEAR(self->session);
    Py_CLEAR(self->pair);
    Py_CLEAR(self->datagrams);
    self->fd = -1;
    return 0;
}

static void
RtpSend_dealloc(RtpSend *self)
{
    PyObject_GC_UnTrack(self);
    RtpSend_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef RtpSend_methods[] = {
    {"write", (PyCFunction)(void (*)(void))RtpSend_write, METH_FASTCALL, write_doc},
    {NULL},
};

static PyTypeObject RtpSendType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.aiortc_internals._rtp_send.RtpSend",
    .tp_doc = PyDoc_STR("One sender's forwarded copies: header, counters, SRTP, sendto."),
    .tp_basicsize = sizeof(RtpSend),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)RtpSend_init,
    .tp_dealloc = (destructor)RtpSend_dealloc,
    .tp_traverse = (traverseproc)RtpSend_traverse,
    .tp_clear = (inquiry)RtpSend_clear,
    .tp_methods = RtpSend_methods,
};

PyDoc_STRVAR(configure_doc,
"configure(srtp_protect_address, max_packet, connected, srtp_context, raw_socket)\n\n"
"libsrtp's srtp_protect (the address of pylibsrtp's), the largest packet it\n"
"protects in place, aiortc's DTLS State.CONNECTED, and two functions: an SRTP\n"
"session's srtp_t, and a datagram transport's socket fd (-1: use its sendto).");

static PyObject *
configure(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *address, *state, *context, *socket_of;
    Py_ssize_t largest;
    if (!PyArg_ParseTuple(args, "O!nOOO", &PyLong_Type, &address, &largest, &state, &context,
                          &socket_of))
        return NULL;
    void *function = PyLong_AsVoidPtr(address);
    if (function == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "srtp_protect's address is needed");
        return NULL;
    }
    if (largest <= 0 || largest > BUFFER_SIZE - SRTP_MAX_TRAILER) {
        PyErr_SetString(PyExc_ValueError, "max_packet out of range");
        return NULL;
    }
    srtp_protect = (srtp_protect_fn)function;
    max_packet = largest;
    Py_INCREF(state);
    Py_XSETREF(connected, state);
    Py_INCREF(context);
    Py_XSETREF(srtp_context, context);
    Py_INCREF(socket_of);
    Py_XSETREF(raw_socket, socket_of);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "media.aiortc_internals._rtp_send",
    .m_doc = "The forwarded copy's header, counters, SRTP and sendto, in C (senders.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__rtp_send(void)
{
    struct {
        PyObject **name;
        const char *text;
    } names[] = {
        {&s_transport, "transport"},
        {&s_state, "_state"},
        {&s_tx_srtp, "_tx_srtp"},
        {&s_connection, "_connection"},
        {&s_nominated, "_nominated"},
        {&s_protocol, "protocol"},
        {&s_remote_addr, "remote_addr"},
        {&s_is_closing, "is_closing"},
        {&s_sendto, "sendto"},
        {&s_ntp_timestamp, "_RTCRtpSender__ntp_timestamp"},
        {&s_rtp_timestamp, "_RTCRtpSender__rtp_timestamp"},
        {&s_octet_count, "_RTCRtpSender__octet_count"},
        {&s_packet_count, "_RTCRtpSender__packet_count"},
        {&s_tx_bytes, "_RTCDtlsTransport__tx_bytes"},
        {&s_tx_packets, "_RTCDtlsTransport__tx_packets"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].name = PyUnicode_InternFromString(names[i].text);
        if (*names[i].name == NULL)
            return NULL;
    }
    one = PyLong_FromLong(1);
    if (one == NULL || PyType_Ready(&RtpSendType) < 0 || PyType_Ready(&SentHistoryType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    SrtpError = PyErr_NewException("media.aiortc_internals._rtp_send.SrtpError", NULL, NULL);
    if (SrtpError == NULL || PyModule_AddObjectRef(module, "SrtpError", SrtpError) < 0
        || PyModule_AddObjectRef(module, "RtpSend", (PyObject *)&RtpSendType) < 0
        || PyModule_AddObjectRef(module, "SentHistory", (PyObject *)&SentHistoryType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
