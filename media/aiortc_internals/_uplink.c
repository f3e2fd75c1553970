/* remb.UplinkEstimator in C: the REMB estimate of a publisher's uplink.
 *
 * The estimator runs once per arriving video packet; in Python that was ~8 % of
 * the SFU's CPU under load.  This is the same algorithm step for step: the
 * grouping of packets by send time, the incoming bitrate over the last second's
 * groups, aiortc's Kalman filter (OveruseEstimator, with remb.py's minimum frame
 * period over the last 59 deltas), its over-use detector (OveruseDetector) and
 * its rate controller (AimdRateControl), from aiortc/rate.py.
 * tests/media/test_uplink_native.py holds it to the Python, packet for packet:
 * the same REMBs, and the same filter, detector and controller state.
 *
 * The same results, bit for bit, come from doing what the Python does in the
 * same order: every float expression below is written as Python evaluates it
 * (left to right, an int turned into a double where Python mixes them; built
 * with -ffp-contract=off, so no fused multiply-add), min() and max() keep
 * Python's choice between equal or unordered values, round() rounds half to
 * even, int() truncates, int / int is the correctly rounded quotient (Python's
 * long_true_divide), and x ** y goes through Python's float_pow: its special
 * cases, then the platform's pow() as Python calls it (never folded into x * x),
 * raising where Python raises.  Where the Python raises (a division by zero,
 * the square root of a negative number) this raises the same error after the
 * same changes of state.
 *
 * Python's ints are unbounded; here they are 64-bit.  Arrival times are
 * milliseconds (aiortc's clock counts from 1900: about 2^42 now) and must lie
 * within +-2^61; sizes, SSRCs and everything summed from them must fit in 64
 * bits.  Beyond that (petabytes in a group, a bitrate of 2^63) this raises
 * OverflowError where the Python would carry on with a big int.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>

/* aiortc.rate.BandwidthUsage and RateControlState, by value */
enum { NORMAL, UNDERUSING, OVERUSING };
enum { HOLD, INCREASE, DECREASE };

#define TIMESTAMP_TO_MS (1000.0 / (1 << 26))    /* aiortc: abs-send-time << 8 to ms */
#define GROUP_LENGTH ((5 << 26) / 1000)         /* 5 ms of send time */
#define BURST_DELTA_THRESHOLD_MS 5
#define RATE_WINDOW_MS 1000
#define FEEDBACK_INTERVAL_MS 500
#define REDUCE_INTERVAL_MS 200
#define RECENT 59                               /* MIN_FRAME_PERIOD_HISTORY_LENGTH - 1 */
#define DELTA_COUNTER_MAX 1000
#define MIN_NUM_DELTAS 60
#define MAX_ADAPT_OFFSET_MS 15
#define RTT 200                                 /* AimdRateControl.rtt */
#define TIME_LIMIT ((int64_t)1 << 61)           /* arrival times lie within +-this */
#define HALF_RANGE 0x80000000u

/* Python's max(a, b) and min(a, b): the first unless the second is strictly
 * greater (smaller); a NaN second never wins. */
#define PY_MAX(a, b) ((b) > (a) ? (b) : (a))
#define PY_MIN(a, b) ((b) < (a) ? (b) : (a))

static PyObject *usage_members[3]; /* BandwidthUsage.NORMAL, UNDERUSING, OVERUSING */
static PyObject *state_members[3]; /* RateControlState.HOLD, INCREASE, DECREASE */

/* A closed group (or a packet sent before the current group), for the rate. */
typedef struct {
    int64_t arrival;
    int64_t size;
} Counted;

typedef struct {
    PyObject_HEAD
    int ready; /* __init__ ran */

    /* the SSRCs seen, in first-seen order */
    int64_t *ssrcs;
    Py_ssize_t ssrc_count, ssrc_capacity;

    /* the group being filled (first: send time, abs-send-time << 8), and the one before */
    int has_first;
    uint32_t first, last;
    int64_t arrival, size;
    int has_previous;
    uint32_t previous_last;
    int64_t previous_arrival, previous_size;

    /* the closed groups of the last second: a ring that grows (power-of-two capacity),
     * as the Python's deque does: groups leave it only when a REMB is considered,
     * which may not happen for as long as the arrival clock jumped back (aiortc's is
     * the wall clock); ~100 groups a second fit in the first 64 slots */
    Counted *window;
    Py_ssize_t window_start, window_count, window_capacity;
    int64_t window_bytes;
    int has_counting_since;
    int64_t counting_since;
    int has_last_update;
    int64_t last_update_ms;

    /* the filter (OveruseEstimator) */
    double e00, e01, e10, e11;
    int num_of_deltas;
    double offset, previous_offset, slope, avg_noise, var_noise;
    double recent[RECENT];
    int recent_start, recent_count;

    /* the detector (OveruseDetector) */
    int hypothesis;
    int has_detector_update;
    int64_t detector_update_ms;
    int64_t overuse_counter;
    int has_overuse_time;
    double overuse_time;
    double detector_previous_offset;
    double threshold;

    /* the rate controller (AimdRateControl) */
    int has_avg_max;
    double avg_max_bitrate_kbps, var_max_bitrate_kbps;
    int64_t current_bitrate;
    int current_bitrate_initialized;
    int has_first_throughput;
    int64_t first_throughput_ms;
    int has_last_change;
    int64_t last_change_ms;
    int near_max;
    int64_t latest_throughput;
    int state;
} UplinkEstimator;

/* --- Python's arithmetic ------------------------------------------------------ */

static int
beyond_64_bits(void)
{
    PyErr_SetString(PyExc_OverflowError,
                    "UplinkEstimator: a value beyond 64 bits (the Python estimator would "
                    "carry on with a big int)");
    return -1;
}

static int
division_by_zero(void)
{
    PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
    return -1;
}

static int
bit_length(unsigned __int128 x)
{
    uint64_t high = (uint64_t)(x >> 64), low = (uint64_t)x;
    if (high)
        return 128 - __builtin_clzll(high);
    return low ? 64 - __builtin_clzll(low) : 0;
}

/* n / d for ints (d > 0) as Python's true division: the quotient correctly
 * rounded, half to even.  Exact operands divide in the FPU; larger numerators
 * are cut to 53 bits here, rounding on the bits and remainder cut off. */
static double
true_divide(__int128 n, int64_t d)
{
    const __int128 exact = (__int128)1 << 53;
    if (-exact <= n && n <= exact && d <= ((int64_t)1 << 53))
        return (double)(int64_t)n / (double)d;
    int negative = n < 0;
    unsigned __int128 a = negative ? -(unsigned __int128)n : (unsigned __int128)n;
    /* scale so that the quotient has at least 56 bits: 3 or more below the 53 kept */
    int shift = 56 - bit_length(a) + bit_length((unsigned __int128)d);
    if (shift < 0)
        shift = 0;
    a <<= shift;
    unsigned __int128 q = a / (uint64_t)d, r = a % (uint64_t)d;
    int cut = bit_length(q) - 53;
    uint64_t kept = (uint64_t)(q >> cut);
    unsigned __int128 rest = q & ((((unsigned __int128)1) << cut) - 1);
    unsigned __int128 half = ((unsigned __int128)1) << (cut - 1);
    if (rest > half || (rest == half && (r != 0 || (kept & 1))))
        kept++;
    double x = ldexp((double)kept, cut - shift);
    return negative ? -x : x;
}

/* PyLong_FromDouble (the last step of int(), round() and math.ceil()), to 64 bits. */
static int
to_int(double x, int64_t *out)
{
    if (isnan(x)) {
        PyErr_SetString(PyExc_ValueError, "cannot convert float NaN to integer");
        return -1;
    }
    if (isinf(x)) {
        PyErr_SetString(PyExc_OverflowError, "cannot convert float infinity to integer");
        return -1;
    }
    if (!(x < 0x1p63) || x < -0x1p63)
        return beyond_64_bits();
    *out = (int64_t)x;
    return 0;
}

/* The same, to 128 bits: for the controller's intermediate bitrates, which the
 * Python clamps afterwards (a long pause makes a large additive increase). */
static int
to_int128(double x, __int128 *out)
{
    if (isnan(x) || isinf(x)) {
        int64_t unused;
        return to_int(x, &unused);
    }
    if (!(x < 0x1p126) || x < -0x1p126)
        return beyond_64_bits();
    *out = (__int128)x;
    return 0;
}

/* round(x): float.__round__ without ndigits. */
static double
round_half_even(double x)
{
    double rounded = round(x);
    if (fabs(x - rounded) == 0.5)
        rounded = 2.0 * round(x / 2.0);
    return rounded;
}

/* math.sqrt(x) */
static int
math_sqrt(double x, double *out)
{
    double r = sqrt(x);
    if (isnan(r) && !isnan(x)) {
        PyErr_SetString(PyExc_ValueError, "math domain error");
        return -1;
    }
    *out = r;
    return 0;
}

/* The platform's pow, through a pointer the compiler cannot see through: GCC
 * would turn pow(x, 2.0) into x * x, which may round differently. */
static double (*volatile platform_pow)(double, double) = pow;

#define DOUBLE_IS_ODD_INTEGER(x) (fmod(fabs(x), 2.0) == 1.0)

/* iv ** iw for floats: Python's float_pow. */
static int
float_pow(double iv, double iw, double *out)
{
    int negate_result = 0;
    if (iw == 0) {
        *out = 1.0;
        return 0;
    }
    if (isnan(iv)) {
        *out = iv;
        return 0;
    }
    if (isnan(iw)) {
        *out = iv == 1.0 ? 1.0 : iw;
        return 0;
    }
    if (isinf(iw)) {
        iv = fabs(iv);
        if (iv == 1.0)
            *out = 1.0;
        else if ((iw > 0.0) == (iv > 1.0))
            *out = fabs(iw);
        else
            *out = 0.0;
        return 0;
    }
    if (isinf(iv)) {
        int iw_is_odd = DOUBLE_IS_ODD_INTEGER(iw);
        if (iw > 0.0)
            *out = iw_is_odd ? iv : fabs(iv);
        else
            *out = iw_is_odd ? copysign(0.0, iv) : 0.0;
        return 0;
    }
    if (iv == 0.0) {
        int iw_is_odd = DOUBLE_IS_ODD_INTEGER(iw);
        if (iw < 0.0) {
            PyErr_SetString(PyExc_ZeroDivisionError, "0.0 cannot be raised to a negative power");
            return -1;
        }
        *out = iw_is_odd ? iv : 0.0;
        return 0;
    }
    if (iv < 0.0) {
        if (iw != floor(iw)) {
            /* Python makes a complex number; no call here can get there (the
             * bases raised to a fraction are 0.99, 0.998 and 1.08) */
            PyErr_SetString(PyExc_ValueError, "negative number to a fractional power");
            return -1;
        }
        iv = -iv;
        negate_result = DOUBLE_IS_ODD_INTEGER(iw);
    }
    if (iv == 1.0) {
        *out = negate_result ? -1.0 : 1.0;
        return 0;
    }
    errno = 0;
    double ix = platform_pow(iv, iw);
    if (errno == 0) {
        if (ix == HUGE_VAL || ix == -HUGE_VAL)
            errno = ERANGE;
    }
    else if (errno == ERANGE && ix == 0.0)
        errno = 0;
    if (negate_result)
        ix = -ix;
    if (errno != 0) {
        PyErr_SetFromErrno(errno == ERANGE ? PyExc_OverflowError : PyExc_ValueError);
        return -1;
    }
    *out = ix;
    return 0;
}

/* --- the filter: OveruseEstimator --------------------------------------------- */

/* _FilterWithCheapMinimum.update_min_frame_period: the smallest of the last 59
 * send deltas and this one; this one joins the 59. */
static double
update_min_frame_period(UplinkEstimator *self, double ts_delta)
{
    double result = ts_delta; /* min(recent, default=ts_delta) */
    for (int i = 0; i < self->recent_count; i++) {
        double old = self->recent[(self->recent_start + i) % RECENT];
        if (i == 0 || old < result)
            result = old;
    }
    if (self->recent_count < RECENT)
        self->recent[(self->recent_start + self->recent_count++) % RECENT] = ts_delta;
    else {
        self->recent[self->recent_start] = ts_delta;
        self->recent_start = (self->recent_start + 1) % RECENT;
    }
    return ts_delta < result ? ts_delta : result;
}

static int
update_noise_estimate(UplinkEstimator *self, double residual, double ts_delta)
{
    double alpha = 0.01;
    if (self->num_of_deltas > 10 * 30)
        alpha = 0.002;
    double beta, square;
    if (float_pow(1 - alpha, ts_delta * 30.0 / 1000.0, &beta) < 0)
        return -1;
    self->avg_noise = beta * self->avg_noise + (1 - beta) * residual;
    if (float_pow(self->avg_noise - residual, 2.0, &square) < 0)
        return -1;
    self->var_noise = beta * self->var_noise + (1 - beta) * square;
    if (self->var_noise < 1)
        self->var_noise = 1;
    return 0;
}

static int
filter_update(UplinkEstimator *self, int64_t time_delta_ms, double timestamp_delta_ms,
              int64_t size_delta, int current_hypothesis)
{
    double min_frame_period = update_min_frame_period(self, timestamp_delta_ms);
    double t_ts_delta = (double)time_delta_ms - timestamp_delta_ms;
    double h0 = (double)size_delta, h1 = 1.0;

    self->num_of_deltas = PY_MIN(self->num_of_deltas + 1, DELTA_COUNTER_MAX);

    self->e00 += 1e-13;
    self->e11 += 1e-3;
    if ((current_hypothesis == OVERUSING && self->offset < self->previous_offset)
        || (current_hypothesis == UNDERUSING && self->offset > self->previous_offset))
        self->e11 += 10 * 1e-3;

    double eh0 = self->e00 * h0 + self->e01 * h1;
    double eh1 = self->e10 * h0 + self->e11 * h1;

    double residual = t_ts_delta - self->slope * h0 - self->offset;
    if (current_hypothesis == NORMAL) {
        double root;
        if (math_sqrt(self->var_noise, &root) < 0)
            return -1;
        double max_residual = 3.0 * root;
        if (fabs(residual) < max_residual) {
            if (update_noise_estimate(self, residual, min_frame_period) < 0)
                return -1;
        }
        else if (update_noise_estimate(self, residual < 0 ? -max_residual : max_residual,
                                       min_frame_period) < 0)
            return -1;
    }

    double denom = self->var_noise + h0 * eh0 + h1 * eh1;
    if (denom == 0.0)
        return division_by_zero();
    double k0 = eh0 / denom, k1 = eh1 / denom;

    double ikh00 = 1.0 - k0 * h0, ikh01 = -k0 * h1;
    double ikh10 = -k1 * h0, ikh11 = 1.0 - k1 * h1;
    double e00 = self->e00, e01 = self->e01;

    self->e00 = e00 * ikh00 + self->e10 * ikh01;
    self->e01 = e01 * ikh00 + self->e11 * ikh01;
    self->e10 = e00 * ikh10 + self->e10 * ikh11;
    self->e11 = e01 * ikh10 + self->e11 * ikh11;

    self->previous_offset = self->offset;
    self->slope += k0 * residual;
    self->offset += k1 * residual;
    return 0;
}

/* --- the detector: OveruseDetector -------------------------------------------- */

static void
update_threshold(UplinkEstimator *self, double modified_offset, int64_t now_ms)
{
    if (!self->has_detector_update) {
        self->has_detector_update = 1;
        self->detector_update_ms = now_ms;
    }
    if (fabs(modified_offset) > self->threshold + MAX_ADAPT_OFFSET_MS) {
        self->detector_update_ms = now_ms;
        return;
    }
    double k = fabs(modified_offset) < self->threshold ? 0.039 : 0.0087; /* k_down, k_up */
    int64_t time_delta_ms = PY_MIN(now_ms - self->detector_update_ms, (int64_t)100);
    self->threshold += k * (fabs(modified_offset) - self->threshold) * (double)time_delta_ms;
    self->threshold = PY_MAX(6.0, PY_MIN(self->threshold, 600.0));
    self->detector_update_ms = now_ms;
}

static void
detect(UplinkEstimator *self, double offset, double timestamp_delta_ms, int num_of_deltas,
       int64_t now_ms)
{
    if (num_of_deltas < 2)
        return;
    double t = (double)PY_MIN(num_of_deltas, MIN_NUM_DELTAS) * offset;
    if (t > self->threshold) {
        if (!self->has_overuse_time) {
            self->has_overuse_time = 1;
            self->overuse_time = timestamp_delta_ms / 2;
        }
        else
            self->overuse_time += timestamp_delta_ms;
        self->overuse_counter++;
        if (self->overuse_time > 10 /* overuse_time_threshold */ && self->overuse_counter > 1
            && offset >= self->detector_previous_offset) {
            self->overuse_counter = 0;
            self->overuse_time = 0;
            self->hypothesis = OVERUSING;
        }
    }
    else if (t < -self->threshold) {
        self->overuse_counter = 0;
        self->has_overuse_time = 0;
        self->hypothesis = UNDERUSING;
    }
    else {
        self->overuse_counter = 0;
        self->has_overuse_time = 0;
        self->hypothesis = NORMAL;
    }
    self->detector_previous_offset = offset;
    update_threshold(self, t, now_ms);
}

/* --- the rate controller: AimdRateControl ------------------------------------- */

static int
near_max_rate_increase(UplinkEstimator *self, int64_t *out)
{
    double bits_per_frame = true_divide(self->current_bitrate, 30);
    int64_t packets_per_frame, increase;
    if (to_int(ceil(bits_per_frame / (8 * 1200)), &packets_per_frame) < 0)
        return -1;
    if ((double)packets_per_frame == 0.0) {
        /* a bitrate of 0: aiortc divides by zero; remb.py climbs at the floor */
        *out = 4000;
        return 0;
    }
    double avg_packet_size_bits = bits_per_frame / (double)packets_per_frame;
    int64_t response_time = RTT + 100;
    if (to_int((avg_packet_size_bits * 1000) / (double)response_time, &increase) < 0)
        return -1;
    *out = PY_MAX((int64_t)4000, increase);
    return 0;
}

static int
missing_last_change(void)
{
    PyErr_SetString(PyExc_TypeError, "unsupported operand type(s) for -: 'int' and 'NoneType'");
    return -1;
}

static int
additive_rate_increase(UplinkEstimator *self, int64_t now_ms, __int128 *out)
{
    if (!self->has_last_change)
        return missing_last_change();
    int64_t elapsed = now_ms - self->last_change_ms, per_second;
    if (near_max_rate_increase(self, &per_second) < 0)
        return -1;
    return to_int128(true_divide((__int128)elapsed * per_second, 1000), out);
}

static int
multiplicative_rate_increase(UplinkEstimator *self, int64_t new_bitrate, int64_t now_ms,
                             __int128 *out)
{
    double alpha = 1.08;
    if (self->has_last_change) {
        int64_t elapsed_ms = PY_MIN(now_ms - self->last_change_ms, (int64_t)1000);
        if (float_pow(alpha, true_divide(elapsed_ms, 1000), &alpha) < 0)
            return -1;
    }
    double increase = (alpha - 1) * (double)new_bitrate;
    return to_int128(PY_MAX(increase, 1000.0), out);
}

static int
update_max_throughput_estimate(UplinkEstimator *self, double throughput_kbps)
{
    double alpha = 0.05, square;
    if (!self->has_avg_max) {
        self->has_avg_max = 1;
        self->avg_max_bitrate_kbps = throughput_kbps;
    }
    else
        self->avg_max_bitrate_kbps =
            (1 - alpha) * self->avg_max_bitrate_kbps + alpha * throughput_kbps;
    double norm = PY_MAX(1.0, self->avg_max_bitrate_kbps);
    if (float_pow(self->avg_max_bitrate_kbps - throughput_kbps, 2.0, &square) < 0)
        return -1;
    self->var_max_bitrate_kbps = (1 - alpha) * self->var_max_bitrate_kbps + alpha * square / norm;
    self->var_max_bitrate_kbps = PY_MAX(0.4, PY_MIN(self->var_max_bitrate_kbps, 2.5));
    return 0;
}

/* AimdRateControl.update; *has_bitrate 0 for its None. */
static int
rate_control_update(UplinkEstimator *self, int usage, int has_throughput, int64_t throughput,
                    int64_t now_ms, int *has_bitrate, int64_t *bitrate)
{
    *has_bitrate = 0;
    if (!self->current_bitrate_initialized && has_throughput) {
        if (!self->has_first_throughput) {
            self->has_first_throughput = 1;
            self->first_throughput_ms = now_ms;
        }
        else if (now_ms - self->first_throughput_ms > 3000) {
            self->current_bitrate = throughput;
            self->current_bitrate_initialized = 1;
        }
    }
    /* wait for initialisation or overuse */
    if (!self->current_bitrate_initialized && usage != OVERUSING)
        return 0;

    if (usage == NORMAL && self->state == HOLD) {
        self->has_last_change = 1;
        self->last_change_ms = now_ms;
        self->state = INCREASE;
    }
    else if (usage == OVERUSING)
        self->state = DECREASE;
    else if (usage == UNDERUSING)
        self->state = HOLD;

    /* new_bitrate and max_bitrate may pass 64 bits; the bitrate kept may not */
    __int128 new_bitrate = self->current_bitrate, increase, max_bitrate;
    int64_t decreased;
    if (has_throughput)
        self->latest_throughput = throughput;
    else
        throughput = self->latest_throughput;
    double throughput_kbps = true_divide(throughput, 1000);
    double sigma_kbps;

    if (self->state == INCREASE) {
        if (self->has_avg_max) {
            if (math_sqrt(self->var_max_bitrate_kbps * self->avg_max_bitrate_kbps, &sigma_kbps) < 0)
                return -1;
            if (throughput_kbps >= self->avg_max_bitrate_kbps + 3 * sigma_kbps) {
                self->near_max = 0;
                self->has_avg_max = 0;
            }
        }
        if (self->near_max) {
            if (additive_rate_increase(self, now_ms, &increase) < 0)
                return -1;
        }
        else if (multiplicative_rate_increase(self, self->current_bitrate, now_ms, &increase) < 0)
            return -1;
        new_bitrate += increase;
        self->has_last_change = 1;
        self->last_change_ms = now_ms;
    }
    else if (self->state == DECREASE) {
        if (self->has_avg_max) {
            if (math_sqrt(self->var_max_bitrate_kbps * self->avg_max_bitrate_kbps, &sigma_kbps) < 0)
                return -1;
            if (throughput_kbps < self->avg_max_bitrate_kbps - 3 * sigma_kbps)
                self->has_avg_max = 0;
        }
        if (update_max_throughput_estimate(self, throughput_kbps) < 0)
            return -1;
        self->near_max = 1;
        if (to_int(round_half_even(0.85 * (double)throughput), &decreased) < 0)
            return -1;
        new_bitrate = decreased;
        self->has_last_change = 1;
        self->last_change_ms = now_ms;
        self->state = HOLD;
    }

    /* _clamp_bitrate */
    if (to_int128(1.5 * (double)throughput, &max_bitrate) < 0)
        return -1;
    max_bitrate = PY_MAX(max_bitrate + 10000, (__int128)self->current_bitrate);
    new_bitrate = PY_MIN(new_bitrate, max_bitrate);
    if (new_bitrate < INT64_MIN || new_bitrate > INT64_MAX)
        return beyond_64_bits();
    self->current_bitrate = (int64_t)new_bitrate;
    *has_bitrate = 1;
    *bitrate = self->current_bitrate;
    return 0;
}

/* --- the groups and the incoming bitrate -------------------------------------- */

/* UplinkEstimator._count: a group (or a late packet) into the window. */
static int
count(UplinkEstimator *self, int64_t arrival_time_ms, int64_t size)
{
    int64_t bytes;
    if (__builtin_add_overflow(self->window_bytes, size, &bytes))
        return beyond_64_bits();
    if (self->window_count == self->window_capacity) {
        if (self->window_capacity > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(Counted)) {
            PyErr_NoMemory();
            return -1;
        }
        Py_ssize_t capacity = self->window_capacity * 2;
        Counted *grown = PyMem_New(Counted, capacity);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < self->window_count; i++)
            grown[i] = self->window[(self->window_start + i) & (self->window_capacity - 1)];
        PyMem_Free(self->window);
        self->window = grown;
        self->window_start = 0;
        self->window_capacity = capacity;
    }
    if (!self->has_counting_since) {
        self->has_counting_since = 1;
        self->counting_since = arrival_time_ms;
    }
    Counted *slot =
        &self->window[(self->window_start + self->window_count) & (self->window_capacity - 1)];
    slot->arrival = arrival_time_ms;
    slot->size = size;
    self->window_count++;
    self->window_bytes = bytes;
    return 0;
}

/* UplinkEstimator.incoming_bitrate; *has_bitrate 0 for its None. */
static int
incoming_bitrate(UplinkEstimator *self, int64_t now_ms, int *has_bitrate, int64_t *bitrate)
{
    *has_bitrate = 0;
    int64_t horizon = now_ms - RATE_WINDOW_MS;
    while (self->window_count && self->window[self->window_start].arrival <= horizon) {
        if (__builtin_sub_overflow(self->window_bytes, self->window[self->window_start].size,
                                   &self->window_bytes))
            return beyond_64_bits();
        self->window_start = (self->window_start + 1) & (self->window_capacity - 1);
        self->window_count--;
    }
    if (!self->window_count || !self->has_counting_since) {
        self->has_counting_since = 0; /* a pause of a second: start afresh, as aiortc */
        return 0;
    }
    int64_t span = PY_MIN((int64_t)RATE_WINDOW_MS, now_ms - self->counting_since + 1);
    if (span <= 1)
        return 0;
    int64_t bytes;
    if (__builtin_add_overflow(self->window_bytes, self->size, &bytes))
        return beyond_64_bits();
    if (to_int(round_half_even(true_divide((__int128)8000 * bytes, span)), bitrate) < 0)
        return -1;
    *has_bitrate = 1;
    return 0;
}

/* UplinkEstimator._new_group (InterArrival.new_timestamp_group): a burst (sent at
 * once, or arriving faster than sent within 5 ms) stays in the group. */
static int
new_group(UplinkEstimator *self, uint32_t timestamp, int64_t arrival_time_ms, uint32_t first)
{
    int64_t send_delta_ms;
    (void)to_int(round_half_even(TIMESTAMP_TO_MS * (double)(uint32_t)(timestamp - self->last)),
                 &send_delta_ms); /* under 2^16: cannot fail */
    int64_t arrival_delta_ms = arrival_time_ms - self->arrival;
    if (send_delta_ms == 0
        || (arrival_delta_ms - send_delta_ms < 0 && arrival_delta_ms <= BURST_DELTA_THRESHOLD_MS))
        return 0;
    return (uint32_t)(timestamp - first) > GROUP_LENGTH;
}

static int
close_group(UplinkEstimator *self, uint32_t timestamp, int64_t arrival_time_ms)
{
    if (count(self, self->arrival, self->size) < 0)
        return -1;
    if (self->has_previous) {
        int64_t size_delta;
        if (__builtin_sub_overflow(self->size, self->previous_size, &size_delta))
            return beyond_64_bits();
        double send_delta_ms = (double)(uint32_t)(self->last - self->previous_last) * TIMESTAMP_TO_MS;
        if (filter_update(self, self->arrival - self->previous_arrival, send_delta_ms, size_delta,
                          self->hypothesis) < 0)
            return -1;
        detect(self, self->offset, send_delta_ms, self->num_of_deltas, arrival_time_ms);
    }
    self->has_previous = 1;
    self->previous_last = self->last;
    self->previous_arrival = self->arrival;
    self->previous_size = self->size;
    self->first = self->last = timestamp;
    self->size = 0;
    return 0;
}

/* --- the type ------------------------------------------------------------------ */

static int
not_ready(UplinkEstimator *self)
{
    if (self->ready)
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "UplinkEstimator.__init__ was not called");
    return -1;
}

/* An int argument, as a 64-bit int. */
static int
int_argument(PyObject *value, const char *name, int64_t *out)
{
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", name,
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    long long number = PyLong_AsLongLong(value);
    if (number == -1 && PyErr_Occurred())
        return -1;
    *out = number;
    return 0;
}

/* A time in ms, within +-2^61 (so that differences and sums of a few stay in 64 bits). */
static int
time_argument(PyObject *value, const char *name, int64_t *out)
{
    if (int_argument(value, name, out) < 0)
        return -1;
    if (*out <= -TIME_LIMIT || *out >= TIME_LIMIT) {
        PyErr_Format(PyExc_OverflowError, "%s must lie within +-2**61 ms", name);
        return -1;
    }
    return 0;
}

/* an int, or None where it is not present */
static PyObject *
optional_int(int present, int64_t value)
{
    if (!present)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(value);
}

/* A new list of count items, item(self, i) each (a new reference, NULL: failed). */
static PyObject *
list_of(UplinkEstimator *self, Py_ssize_t count, PyObject *(*item)(UplinkEstimator *, Py_ssize_t))
{
    PyObject *list = PyList_New(count);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = item(self, i);
        if (value == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, value);
    }
    return list;
}

static PyObject *
ssrc_at(UplinkEstimator *self, Py_ssize_t i)
{
    return PyLong_FromLongLong(self->ssrcs[i]);
}

static PyObject *
ssrc_list(UplinkEstimator *self)
{
    return list_of(self, self->ssrc_count, ssrc_at);
}

/* UplinkEstimator._update: ask the rate controller; the REMB if it answers. */
static PyObject *
update(UplinkEstimator *self, int64_t now_ms)
{
    int has_throughput, has_bitrate;
    int64_t throughput, bitrate;
    int usage = self->hypothesis;
    if (incoming_bitrate(self, now_ms, &has_throughput, &throughput) < 0
        || rate_control_update(self, usage, has_throughput, throughput, now_ms, &has_bitrate,
                               &bitrate) < 0)
        return NULL;
    if (!has_bitrate)
        Py_RETURN_NONE;
    self->has_last_update = 1;
    self->last_update_ms = now_ms;
    PyObject *ssrcs = ssrc_list(self);
    if (ssrcs == NULL)
        return NULL;
    return Py_BuildValue("(LN)", (long long)bitrate, ssrcs);
}

static int
note_ssrc(UplinkEstimator *self, int64_t ssrc)
{
    for (Py_ssize_t i = 0; i < self->ssrc_count; i++)
        if (self->ssrcs[i] == ssrc)
            return 0;
    if (self->ssrc_count == self->ssrc_capacity) {
        Py_ssize_t capacity = self->ssrc_capacity * 2;
        int64_t *grown = PyMem_Resize(self->ssrcs, int64_t, capacity);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->ssrcs = grown;
        self->ssrc_capacity = capacity;
    }
    self->ssrcs[self->ssrc_count++] = ssrc;
    return 0;
}

PyDoc_STRVAR(add_doc,
"add(arrival_time_ms, abs_send_time, payload_size, ssrc) -> (bitrate, ssrcs) | None\n\n"
"Account for one packet; a REMB (bitrate, [ssrcs]) when one is due.");

static PyObject *
UplinkEstimator_add(UplinkEstimator *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError,
                     "add(arrival_time_ms, abs_send_time, payload_size, ssrc) takes 4 arguments "
                     "(%zd given)", nargs);
        return NULL;
    }
    int64_t arrival_time_ms, payload_size, ssrc;
    if (time_argument(args[0], "arrival_time_ms", &arrival_time_ms) < 0)
        return NULL;
    if (!PyLong_Check(args[1])) {
        PyErr_Format(PyExc_TypeError, "abs_send_time must be an int, not %.100s",
                     Py_TYPE(args[1])->tp_name);
        return NULL;
    }
    /* (abs_send_time << 8) & 0xFFFFFFFF: its low 24 bits, whatever the int */
    unsigned long long abs_send_time = PyLong_AsUnsignedLongLongMask(args[1]);
    if (abs_send_time == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (int_argument(args[2], "payload_size", &payload_size) < 0
        || int_argument(args[3], "ssrc", &ssrc) < 0 || not_ready(self) < 0)
        return NULL;

    if (note_ssrc(self, ssrc) < 0)
        return NULL;
    uint32_t timestamp = (uint32_t)(abs_send_time << 8);
    int had_first = self->has_first;
    uint32_t first = self->first;
    if (!had_first) {
        self->has_first = 1;
        self->first = self->last = timestamp;
    }
    else if ((uint32_t)(timestamp - first) >= HALF_RANGE) {
        /* sent before the current group: left out of the filter, as aiortc does,
         * but counted in the incoming bitrate */
        if (count(self, arrival_time_ms, payload_size) < 0)
            return NULL;
    }
    else if (new_group(self, timestamp, arrival_time_ms, first)) {
        if (close_group(self, timestamp, arrival_time_ms) < 0)
            return NULL;
    }
    else if ((uint32_t)(timestamp - self->last) < HALF_RANGE)
        self->last = timestamp;
    if (!had_first || (uint32_t)(timestamp - first) < HALF_RANGE) {
        if (__builtin_add_overflow(self->size, payload_size, &self->size)) {
            beyond_64_bits();
            return NULL;
        }
        self->arrival = arrival_time_ms;
    }

    if (!self->has_last_update || arrival_time_ms - self->last_update_ms > FEEDBACK_INTERVAL_MS)
        return update(self, arrival_time_ms);
    if (self->hypothesis == OVERUSING
        && arrival_time_ms - self->last_update_ms >= REDUCE_INTERVAL_MS)
        return update(self, arrival_time_ms);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(incoming_bitrate_doc,
"incoming_bitrate(now_ms) -> int | None\n\n"
"Bits per second over the last second's groups (None: none closed yet).");

static PyObject *
UplinkEstimator_incoming_bitrate(UplinkEstimator *self, PyObject *arg)
{
    int64_t now_ms, bitrate;
    int has_bitrate;
    if (time_argument(arg, "now_ms", &now_ms) < 0 || not_ready(self) < 0
        || incoming_bitrate(self, now_ms, &has_bitrate, &bitrate) < 0)
        return NULL;
    return optional_int(has_bitrate, bitrate);
}

/* snapshot(): one entry of the dict, a new reference stolen (NULL: failed). */
static int
put(PyObject *dict, const char *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int result = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return result;
}


static PyObject *
optional_float(int present, double value)
{
    if (!present)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

static PyObject *
window_at(UplinkEstimator *self, Py_ssize_t i)
{
    Counted *counted = &self->window[(self->window_start + i) & (self->window_capacity - 1)];
    return Py_BuildValue("(LL)", (long long)counted->arrival, (long long)counted->size);
}

static PyObject *
recent_at(UplinkEstimator *self, Py_ssize_t i)
{
    return PyFloat_FromDouble(self->recent[(self->recent_start + i) % RECENT]);
}

PyDoc_STRVAR(snapshot_doc,
"snapshot() -> dict\n\n"
"Everything the estimate depends on, keyed by the Python UplinkEstimator's attribute\n"
"it stands for (\"filter.E\", \"detector.threshold\", ...): for the tests.");

static PyObject *
UplinkEstimator_snapshot(UplinkEstimator *self, PyObject *Py_UNUSED(ignored))
{
    if (not_ready(self) < 0)
        return NULL;
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    if (put(dict, "ssrcs", ssrc_list(self)) < 0
        || put(dict, "first", optional_int(self->has_first, self->first)) < 0
        || put(dict, "last", PyLong_FromUnsignedLong(self->last)) < 0
        || put(dict, "arrival", PyLong_FromLongLong(self->arrival)) < 0
        || put(dict, "size", PyLong_FromLongLong(self->size)) < 0
        || put(dict, "previous",
               self->has_previous
                   ? Py_BuildValue("(kLL)", (unsigned long)self->previous_last,
                                   (long long)self->previous_arrival,
                                   (long long)self->previous_size)
                   : Py_NewRef(Py_None)) < 0
        || put(dict, "window", list_of(self, self->window_count, window_at)) < 0
        || put(dict, "window_bytes", PyLong_FromLongLong(self->window_bytes)) < 0
        || put(dict, "counting_since", optional_int(self->has_counting_since,
                                                    self->counting_since)) < 0
        || put(dict, "last_update_ms", optional_int(self->has_last_update,
                                                    self->last_update_ms)) < 0
        || put(dict, "filter.E",
               Py_BuildValue("((dd)(dd))", self->e00, self->e01, self->e10, self->e11)) < 0
        || put(dict, "filter.num_of_deltas", PyLong_FromLong(self->num_of_deltas)) < 0
        || put(dict, "filter.offset", PyFloat_FromDouble(self->offset)) < 0
        || put(dict, "filter.previous_offset", PyFloat_FromDouble(self->previous_offset)) < 0
        || put(dict, "filter.slope", PyFloat_FromDouble(self->slope)) < 0
        || put(dict, "filter.avg_noise", PyFloat_FromDouble(self->avg_noise)) < 0
        || put(dict, "filter.var_noise", PyFloat_FromDouble(self->var_noise)) < 0
        || put(dict, "filter.recent", list_of(self, self->recent_count, recent_at)) < 0
        || put(dict, "detector.hypothesis", Py_NewRef(usage_members[self->hypothesis])) < 0
        || put(dict, "detector.last_update_ms", optional_int(self->has_detector_update,
                                                             self->detector_update_ms)) < 0
        || put(dict, "detector.overuse_counter", PyLong_FromLongLong(self->overuse_counter)) < 0
        || put(dict, "detector.overuse_time", optional_float(self->has_overuse_time,
                                                             self->overuse_time)) < 0
        || put(dict, "detector.previous_offset",
               PyFloat_FromDouble(self->detector_previous_offset)) < 0
        || put(dict, "detector.threshold", PyFloat_FromDouble(self->threshold)) < 0
        || put(dict, "rate_control.avg_max_bitrate_kbps",
               optional_float(self->has_avg_max, self->avg_max_bitrate_kbps)) < 0
        || put(dict, "rate_control.var_max_bitrate_kbps",
               PyFloat_FromDouble(self->var_max_bitrate_kbps)) < 0
        || put(dict, "rate_control.current_bitrate", PyLong_FromLongLong(self->current_bitrate)) < 0
        || put(dict, "rate_control.current_bitrate_initialized",
               PyBool_FromLong(self->current_bitrate_initialized)) < 0
        || put(dict, "rate_control.first_estimated_throughput_time",
               optional_int(self->has_first_throughput, self->first_throughput_ms)) < 0
        || put(dict, "rate_control.last_change_ms",
               optional_int(self->has_last_change, self->last_change_ms)) < 0
        || put(dict, "rate_control.near_max", PyBool_FromLong(self->near_max)) < 0
        || put(dict, "rate_control.latest_estimated_throughput",
               PyLong_FromLongLong(self->latest_throughput)) < 0
        || put(dict, "rate_control.state", Py_NewRef(state_members[self->state])) < 0) {
        Py_DECREF(dict);
        return NULL;
    }
    return dict;
}

static PyObject *
UplinkEstimator_get_hypothesis(UplinkEstimator *self, void *Py_UNUSED(closure))
{
    if (not_ready(self) < 0)
        return NULL;
    return Py_NewRef(usage_members[self->hypothesis]);
}

static PyObject *
UplinkEstimator_get_rate_control_state(UplinkEstimator *self, void *Py_UNUSED(closure))
{
    if (not_ready(self) < 0)
        return NULL;
    return Py_NewRef(state_members[self->state]);
}

static void
release(UplinkEstimator *self)
{
    PyMem_Free(self->ssrcs);
    PyMem_Free(self->window);
    self->ssrcs = NULL;
    self->window = NULL;
    self->ready = 0;
}

/* The state of a new UplinkEstimator (aiortc's initial filter, detector and controller). */
static int
UplinkEstimator_init(UplinkEstimator *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "UplinkEstimator() takes no arguments");
        return -1;
    }
    int64_t *ssrcs = PyMem_New(int64_t, 4);
    Counted *window = PyMem_New(Counted, 64);
    if (ssrcs == NULL || window == NULL) {
        PyMem_Free(ssrcs);
        PyMem_Free(window);
        PyErr_NoMemory();
        return -1;
    }
    release(self); /* __init__ again: start afresh */
    memset((char *)self + sizeof(PyObject), 0, sizeof(UplinkEstimator) - sizeof(PyObject));
    self->ssrcs = ssrcs;
    self->ssrc_capacity = 4;
    self->window = window;
    self->window_capacity = 64;

    self->e00 = 100.0;
    self->e11 = 0.1;
    self->slope = 1 / 64.0;
    self->var_noise = 50.0;

    self->hypothesis = NORMAL;
    self->threshold = 12.5;

    self->var_max_bitrate_kbps = 0.4;
    self->current_bitrate = 30000000;
    self->latest_throughput = 30000000;
    self->state = HOLD;
    self->ready = 1;
    return 0;
}

static void
UplinkEstimator_dealloc(UplinkEstimator *self)
{
    release(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef UplinkEstimator_methods[] = {
    {"add", (PyCFunction)(void (*)(void))UplinkEstimator_add, METH_FASTCALL, add_doc},
    {"incoming_bitrate", (PyCFunction)UplinkEstimator_incoming_bitrate, METH_O,
     incoming_bitrate_doc},
    {"snapshot", (PyCFunction)UplinkEstimator_snapshot, METH_NOARGS, snapshot_doc},
    {NULL},
};

static PyGetSetDef UplinkEstimator_getset[] = {
    {"hypothesis", (getter)UplinkEstimator_get_hypothesis, NULL,
     PyDoc_STR("The detector's hypothesis (detector.hypothesis): a BandwidthUsage."), NULL},
    {"rate_control_state", (getter)UplinkEstimator_get_rate_control_state, NULL,
     PyDoc_STR("The rate controller's state (rate_control.state): a RateControlState."), NULL},
    {NULL},
};

static PyTypeObject UplinkEstimatorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.aiortc_internals._uplink.UplinkEstimator",
    .tp_doc = PyDoc_STR("REMB for one received stream, from abs-send-time and arrival times."),
    .tp_basicsize = sizeof(UplinkEstimator),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)UplinkEstimator_init,
    .tp_dealloc = (destructor)UplinkEstimator_dealloc,
    .tp_methods = UplinkEstimator_methods,
    .tp_getset = UplinkEstimator_getset,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "media.aiortc_internals._uplink",
    .m_doc = "remb.UplinkEstimator in C (native_uplink.py chooses it).",
    .m_size = -1,
};

/* The members of an aiortc.rate enum, by value order. */
static int
enum_members(PyObject *rate, const char *enum_name, const char *const names[3],
             PyObject *members[3])
{
    PyObject *type = PyObject_GetAttrString(rate, enum_name);
    if (type == NULL)
        return -1;
    for (int i = 0; i < 3; i++) {
        members[i] = PyObject_GetAttrString(type, names[i]);
        if (members[i] == NULL) {
            Py_DECREF(type);
            return -1;
        }
    }
    Py_DECREF(type);
    return 0;
}

PyMODINIT_FUNC
PyInit__uplink(void)
{
    static const char *const usage_names[3] = {"NORMAL", "UNDERUSING", "OVERUSING"};
    static const char *const state_names[3] = {"HOLD", "INCREASE", "DECREASE"};
    PyObject *rate = PyImport_ImportModule("aiortc.rate");
    if (rate == NULL)
        return NULL;
    int failed = enum_members(rate, "BandwidthUsage", usage_names, usage_members) < 0
                 || enum_members(rate, "RateControlState", state_names, state_members) < 0;
    Py_DECREF(rate);
    if (failed || PyType_Ready(&UplinkEstimatorType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "UplinkEstimator", (PyObject *)&UplinkEstimatorType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
