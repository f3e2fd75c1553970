/* What arrives from a publisher, in C: pylibsrtp's SRTP unprotect, aiortc's
 * RtpPacket.parse (with HeaderExtensionsMap.get) and its vp8_depayload.
 *
 * Every RTP packet a publisher sends is parsed once on arrival; in Python that
 * was ~6 % of the SFU's CPU.  This builds the same RtpPacket, with the same
 * HeaderExtensions, from the same bytes, and refuses what aiortc refuses with a
 * ValueError (where aiortc lets a struct.error escape, from an extension of
 * the wrong length, this raises ValueError: the caller drops the packet either
 * way, as a parse failure instead of an unhandled error).
 * tests/media/test_rtp_parse.py holds it to aiortc's parse, packet for packet,
 * over generated and mutated packets.
 *
 * The bytes are a remote party's (decrypted, so authenticated as the seat's):
 * every read below is checked against the length first.
 *
 * unprotect() is pylibsrtp's Session.unprotect without its Python (a buffer
 * object, a length object, a copy in and a copy out, ~5 % of the SFU's CPU): the
 * packet is copied once into the bytes it is returned in and authenticated and
 * decrypted there by libsrtp's srtp_unprotect (pylibsrtp's own, called through
 * its address, as _rtp_send.c calls srtp_protect).  tests/media/test_rtp_parse.py
 * holds it to pylibsrtp's, packet for packet.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdint.h>

static PyObject *packet_type;     /* aiortc.rtp.RtpPacket */
static PyObject *extensions_type; /* aiortc.rtp.HeaderExtensions */
static PyObject *empty_tuple;

static PyObject *s_ids, *s_version, *s_marker, *s_payload_type, *s_sequence_number,
    *s_timestamp, *s_ssrc, *s_csrc, *s_extensions, *s_payload, *s_padding_size;

/* The extensions, in HeaderExtensionsMap.get's order of precedence. */
enum { MID, REPAIRED_RID, RID, ABS_SEND_TIME, TOFFSET, AUDIO_LEVEL, TRANSPORT_SEQ, KINDS };
static const char *const kind_names[KINDS] = {
    "mid",          "repaired_rtp_stream_id", "rtp_stream_id", "abs_send_time",
    "transmission_offset", "audio_level",     "transport_sequence_number",
};
static PyObject *kind_attrs[KINDS];

static uint32_t
read_be(const uint8_t *at, int bytes)
{
    uint32_t value = 0;
    for (int i = 0; i < bytes; i++)
        value = value << 8 | at[i];
    return value;
}

static PyObject *
wrong_length(int kind)
{
    PyErr_Format(PyExc_ValueError, "RTP header extension %s has the wrong length",
                 kind_names[kind]);
    return NULL;
}

/* The value of one extension element (a new reference). */
static PyObject *
element_value(int kind, const uint8_t *value, Py_ssize_t length)
{
    switch (kind) {
    case MID:
        return PyUnicode_DecodeUTF8((const char *)value, length, NULL);
    case REPAIRED_RID:
    case RID:
        return PyUnicode_DecodeASCII((const char *)value, length, NULL);
    case ABS_SEND_TIME:
        return length == 3 ? PyLong_FromUnsignedLong(read_be(value, 3)) : wrong_length(kind);
    case TOFFSET:
        if (length != 3)
            return wrong_length(kind);
        return PyLong_FromLong((long)((int32_t)(read_be(value, 3) << 8) >> 8));
    case AUDIO_LEVEL:
        if (length != 1)
            return wrong_length(kind);
        return Py_BuildValue("(Ni)", PyBool_FromLong(value[0] & 0x80), value[0] & 0x7F);
    default: /* TRANSPORT_SEQ */
        return length == 2 ? PyLong_FromUnsignedLong(read_be(value, 2)) : wrong_length(kind);
    }
}

/* HeaderExtensionsMap.get: each element whose id is configured, the last of an id
 * winning; 0 with values[] filled (new references or NULL), or -1. */
static int
parse_extensions(const long ids[KINDS], unsigned profile, const uint8_t *data,
                 Py_ssize_t length, PyObject *values[KINDS])
{
    int two_byte = profile == 0x1000;
    if (profile != 0xBEDE && !two_byte)
        return 0;
    Py_ssize_t pos = 0;
    while (pos < length) {
        if (data[pos] == 0) { /* padding */
            pos++;
            continue;
        }
        long id;
        Py_ssize_t size;
        if (two_byte) {
            if (length < pos + 2) {
                PyErr_SetString(PyExc_ValueError, "RTP two-byte header extension is truncated");
                return -1;
            }
            id = data[pos];
            size = data[pos + 1];
            pos += 2;
        } else {
            id = data[pos] >> 4;
            size = (data[pos] & 0x0F) + 1;
            pos += 1;
        }
        if (length < pos + size) {
            PyErr_SetString(PyExc_ValueError,
                            two_byte ? "RTP two-byte header extension value is truncated"
                                     : "RTP one-byte header extension value is truncated");
            return -1;
        }
        for (int kind = 0; kind < KINDS; kind++) {
            if (ids[kind] == id) {
                PyObject *value = element_value(kind, data + pos, size);
                if (value == NULL)
                    return -1;
                Py_XSETREF(values[kind], value);
                break;
            }
        }
        pos += size;
    }
    return 0;
}

/* The ids a HeaderExtensionsMap was configured with (-1: not negotiated). */
static int
configured_ids(PyObject *extensions_map, long ids[KINDS])
{
    PyObject *configured = PyObject_GetAttr(extensions_map, s_ids);
    if (configured == NULL)
        return -1;
    for (int kind = 0; kind < KINDS; kind++) {
        PyObject *id = PyObject_GetAttr(configured, kind_attrs[kind]);
        if (id == NULL) {
            Py_DECREF(configured);
            return -1;
        }
        ids[kind] = PyLong_Check(id) ? PyLong_AsLong(id) : -1;
        Py_DECREF(id);
        if (ids[kind] == -1 && PyErr_Occurred()) {
            Py_DECREF(configured);
            return -1;
        }
    }
    Py_DECREF(configured);
    return 0;
}

static PyObject *
new_instance(PyObject *type)
{
    return ((PyTypeObject *)type)->tp_new((PyTypeObject *)type, empty_tuple, NULL);
}

static int
set_long(PyObject *obj, PyObject *name, long value)
{
    PyObject *number = PyLong_FromLong(value);
    if (number == NULL)
        return -1;
    int result = PyObject_SetAttr(obj, name, number);
    Py_DECREF(number);
    return result;
}

static PyObject *
header_extensions(PyObject *values[KINDS])
{
    PyObject *extensions = new_instance(extensions_type);
    if (extensions == NULL)
        return NULL;
    for (int kind = 0; kind < KINDS; kind++) {
        if (PyObject_SetAttr(extensions, kind_attrs[kind],
                             values[kind] ? values[kind] : Py_None) < 0) {
            Py_DECREF(extensions);
            return NULL;
        }
    }
    return extensions;
}

PyDoc_STRVAR(parse_doc,
"parse(data, extensions_map) -> RtpPacket\n\n"
"RtpPacket.parse(data, extensions_map), in C; ValueError for what it refuses.");

static PyObject *
parse(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "parse(data: bytes, extensions_map)");
        return NULL;
    }
    if (packet_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    const uint8_t *data = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t length = PyBytes_GET_SIZE(args[0]);
    if (length < 12) {
        PyErr_SetString(PyExc_ValueError, "RTP packet length is less than 12 bytes");
        return NULL;
    }
    int padding = data[0] >> 5 & 1, extension = data[0] >> 4 & 1, cc = data[0] & 0x0F;
    if (data[0] >> 6 != 2) {
        PyErr_SetString(PyExc_ValueError, "RTP packet has invalid version");
        return NULL;
    }
    if (length < 12 + 4 * cc) {
        PyErr_SetString(PyExc_ValueError, "RTP packet has truncated CSRC");
        return NULL;
    }
    Py_ssize_t pos = 12 + 4 * cc;
    PyObject *values[KINDS] = {NULL};
    PyObject *packet = NULL, *csrc = NULL, *extensions = NULL, *payload = NULL;
    if (extension) {
        if (length < pos + 4) {
            PyErr_SetString(PyExc_ValueError, "RTP packet has truncated extension profile / length");
            return NULL;
        }
        unsigned profile = read_be(data + pos, 2);
        Py_ssize_t extension_length = 4 * (Py_ssize_t)read_be(data + pos + 2, 2);
        pos += 4;
        if (length < pos + extension_length) {
            PyErr_SetString(PyExc_ValueError, "RTP packet has truncated extension value");
            return NULL;
        }
        long ids[KINDS];
        if (configured_ids(args[1], ids) < 0
            || parse_extensions(ids, profile, data + pos, extension_length, values) < 0)
            goto done;
        pos += extension_length;
    }
    Py_ssize_t padding_size = 0;
    if (padding) {
        padding_size = data[length - 1];
        if (!padding_size || padding_size > length - pos) {
            PyErr_SetString(PyExc_ValueError, "RTP packet padding length is invalid");
            goto done;
        }
    }
    csrc = PyList_New(cc);
    if (csrc == NULL)
        goto done;
    for (int i = 0; i < cc; i++) {
        PyObject *source = PyLong_FromUnsignedLong(read_be(data + 12 + 4 * i, 4));
        if (source == NULL)
            goto done;
        PyList_SET_ITEM(csrc, i, source);
    }
    extensions = header_extensions(values);
    payload = PyBytes_FromStringAndSize((const char *)data + pos, length - pos - padding_size);
    packet = extensions && payload ? new_instance(packet_type) : NULL;
    if (packet == NULL)
        goto done;
    if (set_long(packet, s_version, 2) < 0 || set_long(packet, s_marker, data[1] >> 7) < 0
        || set_long(packet, s_payload_type, data[1] & 0x7F) < 0
        || set_long(packet, s_sequence_number, (long)read_be(data + 2, 2)) < 0
        || set_long(packet, s_timestamp, (long)read_be(data + 4, 4)) < 0
        || set_long(packet, s_ssrc, (long)read_be(data + 8, 4)) < 0
        || PyObject_SetAttr(packet, s_csrc, csrc) < 0
        || PyObject_SetAttr(packet, s_extensions, extensions) < 0
        || PyObject_SetAttr(packet, s_payload, payload) < 0
        || set_long(packet, s_padding_size, (long)padding_size) < 0)
        Py_CLEAR(packet);
done:
    for (int kind = 0; kind < KINDS; kind++)
        Py_XDECREF(values[kind]);
    Py_XDECREF(csrc);
    Py_XDECREF(extensions);
    Py_XDECREF(payload);
    return packet;
}

PyDoc_STRVAR(vp8_depayload_doc,
"vp8_depayload(payload: bytes) -> bytes: aiortc's vp8_depayload, the VP8 data after\n"
"the payload descriptor (RFC 7741 4.2); ValueError where aiortc's refuses.");

/* aiortc.codecs.vpx.vp8_depayload: VpxPayloadDescriptor.parse's checks and the
 * offset it reads up to, without the descriptor object nobody reads. */
static PyObject *
vp8_depayload(PyObject *Py_UNUSED(module), PyObject *payload)
{
    if (!PyBytes_Check(payload)) {
        PyErr_Format(PyExc_TypeError, "payload must be bytes, not %.100s",
                     Py_TYPE(payload)->tp_name);
        return NULL;
    }
    const uint8_t *data = (const uint8_t *)PyBytes_AS_STRING(payload);
    Py_ssize_t length = PyBytes_GET_SIZE(payload), pos = 1;
    const char *refusal = NULL;
    if (length < 1) {
        refusal = "VPX descriptor is too short";
    } else if (data[0] & 0x80) { /* X: the extended control bits follow */
        if (length < 2) {
            refusal = "VPX descriptor has truncated extended bits";
            goto refuse;
        }
        uint8_t control = data[1];
        pos = 2;
        if (control & 0x80) { /* I: a picture id, 7 or 15 bits */
            if (length < pos + 1) {
                refusal = "VPX descriptor has truncated PictureID";
                goto refuse;
            }
            if (data[pos] & 0x80) {
                if (length < pos + 2) {
                    refusal = "VPX descriptor has truncated long PictureID";
                    goto refuse;
                }
                pos += 2;
            } else {
                pos += 1;
            }
        }
        if (control & 0x40) { /* L: TL0PICIDX */
            if (length < pos + 1) {
                refusal = "VPX descriptor has truncated TL0PICIDX";
                goto refuse;
            }
            pos += 1;
        }
        if (control & 0x30) { /* T or K: one byte for both */
            if (length < pos + 1) {
                refusal = "VPX descriptor has truncated T/K";
                goto refuse;
            }
            pos += 1;
        }
    }
refuse:
    if (refusal != NULL) {
        PyErr_SetString(PyExc_ValueError, refusal);
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)data + pos, length - pos);
}

/* --- SRTP unprotect ------------------------------------------------------------ */

typedef int (*srtp_unprotect_fn)(void *ctx, void *srtp_hdr, int *len);

/* set once by configure_unprotect() */
static srtp_unprotect_fn srtp_unprotect;
static PyObject *srtp_context; /* session -> its srtp_t as an int */
static PyObject *srtp_error;   /* pylibsrtp.Error */
static PyObject *srtp_errors;  /* pylibsrtp.ERRORS: libsrtp's status -> its message */
static PyObject *s_context;    /* where a session keeps its srtp_t for unprotect() */

PyDoc_STRVAR(unprotect_doc,
"unprotect(session, packet: bytes) -> bytes: pylibsrtp's Session.unprotect; its\n"
"Error where libsrtp refuses (not authentic, a replay), of any length.");

static PyObject *
unprotect(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "unprotect() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *session = args[0], *data = args[1];
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "packet must be bytes");
        return NULL;
    }
    if (srtp_unprotect == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure_unprotect() was not called");
        return NULL;
    }
    /* the session's srtp_t, found once and kept on the session (which owns it) */
    PyObject *context = PyObject_GetAttr(session, s_context);
    if (context == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
        context = PyObject_CallOneArg(srtp_context, session);
        if (context == NULL || PyObject_SetAttr(session, s_context, context) < 0) {
            Py_XDECREF(context);
            return NULL;
        }
    }
    void *srtp = PyLong_AsVoidPtr(context);
    Py_DECREF(context);
    if (srtp == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "an SRTP session without a context");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(data);
    if (length > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "packet is too long");
        return NULL;
    }
    /* new bytes, not yet seen by anyone: libsrtp works in them in place */
    PyObject *packet = PyBytes_FromStringAndSize(PyBytes_AS_STRING(data), length);
    if (packet == NULL)
        return NULL;
    int octets = (int)length;
    int status = srtp_unprotect(srtp, PyBytes_AS_STRING(packet), &octets);
    if (status != 0) {
        Py_DECREF(packet);
        PyObject *message = PySequence_GetItem(srtp_errors, status);
        if (message == NULL) {
            PyErr_Clear();
            message = PyUnicode_FromFormat("srtp_unprotect failed: %d", status);
        }
        if (message != NULL) {
            PyErr_SetObject(srtp_error, message);
            Py_DECREF(message);
        }
        return NULL;
    }
    if (octets < 0 || octets > length) {
        Py_DECREF(packet);
        PyErr_SetString(PyExc_SystemError, "srtp_unprotect gave a length out of range");
        return NULL;
    }
    if (_PyBytes_Resize(&packet, octets) < 0)
        return NULL;
    return packet;
}

PyDoc_STRVAR(configure_unprotect_doc,
"configure_unprotect(srtp_unprotect_address, srtp_context, Error, ERRORS): libsrtp's\n"
"srtp_unprotect (the address of pylibsrtp's), what gives a session's srtp_t, and\n"
"pylibsrtp's error and messages.");

static PyObject *
configure_unprotect(PyObject *Py_UNUSED(module), PyObject *args)
{
    unsigned long long address;
    PyObject *context, *error, *errors;
    if (!PyArg_ParseTuple(args, "KOOO", &address, &context, &error, &errors))
        return NULL;
    if (address == 0 || !PyCallable_Check(context) || !PyExceptionClass_Check(error)
        || !PySequence_Check(errors)) {
        PyErr_SetString(PyExc_ValueError,
                        "an address, a callable, an exception class and a sequence are needed");
        return NULL;
    }
    Py_INCREF(context);
    Py_XSETREF(srtp_context, context);
    Py_INCREF(error);
    Py_XSETREF(srtp_error, error);
    Py_INCREF(errors);
    Py_XSETREF(srtp_errors, errors);
    srtp_unprotect = (srtp_unprotect_fn)(uintptr_t)address;
    Py_RETURN_NONE;
}

/* --- the module ------------------------------------------------------------------ */

PyDoc_STRVAR(configure_doc,
"configure(RtpPacket, HeaderExtensions): the classes parse() makes instances of.");

static PyObject *
configure(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *packet, *extensions;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &packet, &PyType_Type, &extensions))
        return NULL;
    Py_INCREF(packet);
    Py_XSETREF(packet_type, packet);
    Py_INCREF(extensions);
    Py_XSETREF(extensions_type, extensions);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))parse, METH_FASTCALL, parse_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {"vp8_depayload", vp8_depayload, METH_O, vp8_depayload_doc},
    {"unprotect", (PyCFunction)(void (*)(void))unprotect, METH_FASTCALL, unprotect_doc},
    {"configure_unprotect", configure_unprotect, METH_VARARGS, configure_unprotect_doc},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "media.aiortc_internals._rtp_parse",
    .m_doc = "pylibsrtp's unprotect, aiortc's RtpPacket.parse and vp8_depayload in C "
             "(native_parse.py chooses them).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__rtp_parse(void)
{
    struct {
        PyObject **name;
        const char *text;
    } names[] = {
        {&s_ids, "_HeaderExtensionsMap__ids"},
        {&s_version, "version"},
        {&s_marker, "marker"},
        {&s_payload_type, "payload_type"},
        {&s_sequence_number, "sequence_number"},
        {&s_timestamp, "timestamp"},
        {&s_ssrc, "ssrc"},
        {&s_csrc, "csrc"},
        {&s_extensions, "extensions"},
        {&s_payload, "payload"},
        {&s_padding_size, "padding_size"},
        {&s_context, "_caucus_srtp_t"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].name = PyUnicode_InternFromString(names[i].text);
        if (*names[i].name == NULL)
            return NULL;
    }
    for (int kind = 0; kind < KINDS; kind++) {
        kind_attrs[kind] = PyUnicode_InternFromString(kind_names[kind]);
        if (kind_attrs[kind] == NULL)
            return NULL;
    }
    empty_tuple = PyTuple_New(0);
    if (empty_tuple == NULL)
        return NULL;
    return PyModule_Create(&module_def);
}
