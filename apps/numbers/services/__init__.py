"""Numbers services: settings of a number, jobs at Telnyx, caller-name lookups."""

from apps.numbers.services.jobs import (  # noqa: F401
    number_job_fail,
    number_job_retry,
    number_job_run,
    number_jobs_sweep,
    number_order_start,
    number_release_start,
    numbers_import_start,
)
from apps.numbers.services.lookups import call_caller_name_fill, caller_name_get  # noqa: F401
from apps.numbers.services.numbers import (  # noqa: F401
    e164_or_refuse,
    phone_number_acquire,
    phone_number_set_status,
    phone_number_update,
)
