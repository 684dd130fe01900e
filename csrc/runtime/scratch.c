/* Per-thread scratch buffers that live across calls.
 *
 * Packed weights and dense layout copies can take megabytes; allocating them afresh on
 * every call costs more than the packing itself (the kernel zeroes every new page: 8% of a
 * 7x7x512 layer was clear_page).  Each thread keeps one buffer per slot, grown on demand
 * and freed when the thread exits; buffers over FC_SCRATCH_KEEP bytes (a layout copy of a
 * big input, say) are given back by fc_scratch_release at the end of the call, so an idle
 * process holds at most a few of those.  Calls from different threads never share a
 * buffer. */
#include <pthread.h>
#include <stdlib.h>
#include "fc_runtime.h"

typedef struct {
    void *data[FC_SCRATCH_SLOTS];
    size_t size[FC_SCRATCH_SLOTS];
} scratch_set;

#define FC_SCRATCH_KEEP (16u << 20)

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    scratch_set *s = p;
    for (int i = 0; i < FC_SCRATCH_SLOTS; i++) free(s->data[i]);
    free(s);
}

static void scratch_init(void) {
    pthread_key_create(&scratch_key, scratch_free);
}

static scratch_set *this_thread_set(void) {
    pthread_once(&scratch_once, scratch_init);
    return pthread_getspecific(scratch_key);
}

void fc_scratch_release(fc_scratch_slot slot) {
    scratch_set *s = this_thread_set();
    if (s && s->size[slot] > FC_SCRATCH_KEEP) {
        free(s->data[slot]);
        s->data[slot] = NULL;
        s->size[slot] = 0;
    }
}

void *fc_scratch(fc_scratch_slot slot, size_t bytes) {
    scratch_set *s = this_thread_set();
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->size[slot] < bytes) {
        free(s->data[slot]);
        s->data[slot] = fc_alloc(bytes);
        s->size[slot] = s->data[slot] ? bytes : 0;
    }
    return s->data[slot];
}
