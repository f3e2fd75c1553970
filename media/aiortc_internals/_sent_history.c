/* A sender's NACK history in C: senders.SentHistory's ring, for the C writer.
 *
 * Slot `sequence_number % size` holds the last packet filed there; a packet is
 * let go (its payload freed) once it is older than `horizon` seconds, as a
 * repair that late is no use to a jitter buffer.  The filing order is a ring of
 * `size` entries: if more than `size` packets are filed within the horizon, the
 * oldest filing is let go early (its slot has been filed over already when
 * sequence numbers run consecutively, as a writer's do).
 *
 * Python sees file(), holds(), entry() and len(); native_send.NativeSentHistory
 * adds get(), which rebuilds the RtpPacket aiortc's _retransmit sends.
 */
#include "_rtp_send.h"

#include <time.h>

static double
monotonic(SentHistory *self, int *failed)
{
    if (self->clock == NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)now.tv_sec + now.tv_nsec / 1e9;
    }
    PyObject *value = PyObject_CallNoArgs(self->clock);
    double seconds = value ? PyFloat_AsDouble(value) : -1.0;
    Py_XDECREF(value);
    *failed = PyErr_Occurred() != NULL;
    return seconds;
}

static void
empty(SentHistory *self, Py_ssize_t slot)
{
    SentPacket *sent = &self->slots[slot];
    if (sent->payload != NULL) {
        Py_CLEAR(sent->payload);
        Py_CLEAR(sent->level);
        self->held--;
    }
}

/* Let go of the oldest filing, if its slot still holds the packet filed then. */
static void
let_go_oldest(SentHistory *self)
{
    Filing *oldest = &self->order[self->first];
    SentPacket *sent = &self->slots[oldest->slot];
    if (sent->payload != NULL && sent->sequence_number == oldest->sequence_number)
        empty(self, oldest->slot);
    self->first = (self->first + 1) % self->size;
    self->filings--;
}

int
sent_history_file(SentHistory *self, uint16_t sequence_number, uint32_t timestamp, int marker,
                  PyObject *payload, uint32_t abs_send_time, PyObject *level)
{
    if (self->size <= 0) {
        PyErr_SetString(PyExc_RuntimeError, "SentHistory.__init__ was not called");
        return -1;
    }
    int failed = 0;
    double now = monotonic(self, &failed);
    if (failed)
        return -1;
    if (self->filings == self->size) /* before filing: it may name the slot filed next */
        let_go_oldest(self);
    Py_ssize_t slot = sequence_number % self->size;
    empty(self, slot);
    SentPacket *sent = &self->slots[slot];
    sent->payload = Py_NewRef(payload);
    sent->level = Py_NewRef(level);
    sent->sequence_number = sequence_number;
    sent->timestamp = timestamp;
    sent->marker = (uint8_t)(marker != 0);
    sent->abs_send_time = abs_send_time;
    self->held++;
    Filing *filing = &self->order[(self->first + self->filings) % self->size];
    filing->filed = now;
    filing->slot = slot;
    filing->sequence_number = sequence_number;
    self->filings++;
    double horizon = now - self->horizon;
    while (self->filings && self->order[self->first].filed < horizon)
        let_go_oldest(self);
    return 0;
}

static PyObject *
History_file(SentHistory *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "file(sequence_number, timestamp, marker, payload, abs_send_time, "
                        "audio_level)");
        return NULL;
    }
    uint16_t seq;
    uint32_t ts;
    int marker;
    if (header_fields(args, &seq, &ts, &marker) < 0)
        return NULL;
    unsigned long abs_send_time = PyLong_AsUnsignedLong(args[4]);
    if (abs_send_time == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    if (abs_send_time > 0xFFFFFFul) {
        PyErr_SetString(PyExc_OverflowError, "abs_send_time out of range");
        return NULL;
    }
    if (!PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "payload must be bytes");
        return NULL;
    }
    if (sent_history_file(self, seq, ts, marker, args[3],
                          (uint32_t)abs_send_time, args[5]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The slot's packet if it is sequence_number's (-1: any), else NULL (no exception). */
static SentPacket *
find(SentHistory *self, PyObject *key, long sequence_number, int *failed)
{
    if (self->size <= 0) {
        PyErr_SetString(PyExc_RuntimeError, "SentHistory.__init__ was not called");
        *failed = 1;
        return NULL;
    }
    long long number = PyLong_AsLongLong(key);
    if (number == -1 && PyErr_Occurred()) {
        *failed = 1;
        return NULL;
    }
    Py_ssize_t slot = (Py_ssize_t)(((number % self->size) + self->size) % self->size);
    SentPacket *sent = &self->slots[slot];
    if (sent->payload == NULL)
        return NULL;
    if (sequence_number >= 0 && sent->sequence_number != sequence_number)
        return NULL;
    return sent;
}

static PyObject *
History_holds(SentHistory *self, PyObject *sequence_number)
{
    int failed = 0;
    long number = PyLong_AsLong(sequence_number);
    if (number == -1 && PyErr_Occurred())
        return NULL;
    SentPacket *sent = number < 0 || number > 0xFFFF
                           ? NULL
                           : find(self, sequence_number, number, &failed);
    if (failed)
        return NULL;
    return PyBool_FromLong(sent != NULL);
}

static PyObject *
History_entry(SentHistory *self, PyObject *key)
{
    int failed = 0;
    SentPacket *sent = find(self, key, -1, &failed);
    if (failed)
        return NULL;
    if (sent == NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(HkiOkO)", sent->sequence_number, (unsigned long)sent->timestamp,
                         (int)sent->marker, sent->payload, (unsigned long)sent->abs_send_time,
                         sent->level);
}

static Py_ssize_t
History_len(SentHistory *self)
{
    return self->held;
}

static int
History_init(SentHistory *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"size", "horizon", "clock", NULL};
    Py_ssize_t size;
    double horizon;
    PyObject *clock = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nd|O", keywords, &size, &horizon, &clock))
        return -1;
    if (self->slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a history is made once");
        return -1;
    }
    if (size <= 0 || size > 65536 || horizon <= 0) {
        PyErr_SetString(PyExc_ValueError, "size must be in [1, 65536], horizon positive");
        return -1;
    }
    SentPacket *slots = PyMem_Calloc(size, sizeof(SentPacket));
    Filing *order = PyMem_Calloc(size, sizeof(Filing));
    if (slots == NULL || order == NULL) {
        PyMem_Free(slots);
        PyMem_Free(order);
        PyErr_NoMemory();
        return -1;
    }
    self->slots = slots;
    self->order = order;
    self->size = size;
    self->horizon = horizon;
    self->clock = clock == Py_None ? NULL : Py_NewRef(clock);
    return 0;
}

static int
History_traverse(SentHistory *self, visitproc visit, void *arg)
{
    Py_VISIT(self->clock);
    for (Py_ssize_t i = 0; self->slots != NULL && i < self->size; i++) {
        Py_VISIT(self->slots[i].payload); /* a bytes subclass may hold a reference back */
        Py_VISIT(self->slots[i].level);
    }
    return 0;
}

static int
History_clear(SentHistory *self)
{
    Py_CLEAR(self->clock);
    for (Py_ssize_t i = 0; self->slots != NULL && i < self->size; i++)
        empty(self, i);
    self->filings = 0;
    return 0;
}

static void
History_dealloc(SentHistory *self)
{
    PyObject_GC_UnTrack(self);
    History_clear(self);
    PyMem_Free(self->slots);
    PyMem_Free(self->order);
    Py_TYPE(self)->tp_free((PyObject *)self); /* a subclass's type: its dealloc's to drop */
}

static PyMethodDef History_methods[] = {
    {"file", (PyCFunction)(void (*)(void))History_file, METH_FASTCALL,
     "file(sequence_number, timestamp, marker, payload, abs_send_time, audio_level)"},
    {"holds", (PyCFunction)History_holds, METH_O,
     "Whether a NACK for this sequence number is answered."},
    {"entry", (PyCFunction)History_entry, METH_O,
     "The packet in slot key % size: (sequence_number, timestamp, marker, payload, "
     "abs_send_time, audio_level), or None."},
    {NULL},
};

static PySequenceMethods History_as_sequence = {
    .sq_length = (lenfunc)History_len,
};

PyTypeObject SentHistoryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.aiortc_internals._rtp_send.SentHistory",
    .tp_doc = PyDoc_STR("SentHistory(size, horizon, clock=None): a sender's NACK history."),
    .tp_basicsize = sizeof(SentHistory),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)History_init,
    .tp_dealloc = (destructor)History_dealloc,
    .tp_traverse = (traverseproc)History_traverse,
    .tp_clear = (inquiry)History_clear,
    .tp_methods = History_methods,
    .tp_as_sequence = &History_as_sequence,
};
