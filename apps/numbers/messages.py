"""The shape of every live message and API body about numbers, built in one place."""

from apps.numbers.models import NumberJob, PhoneNumber


def number_summary(number: PhoneNumber) -> dict:
    return {
        "id": number.pk,
        "e164": number.e164,
        "label": number.label,
        "status": number.status,
        "status_label": number.get_status_display(),
        "telnyx_id": number.telnyx_id,
        "connection_id": number.connection_id,
        "country": number.country,
        "number_type": number.number_type,
        "locality": number.locality,
        "region": number.region,
        "features": list(number.features or []),
        "route": number.route,
        "route_label": number.get_route_display(),
        "forward_to": number.forward_to,
        "tracking_source": number.tracking_source,
        "tracking_campaign": number.tracking_campaign,
        "released_at": number.released_at,
    }


def job_summary(job: NumberJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "step": job.step,
        "phone_number": job.phone_number,
        "number_id": job.number_id,
        "error": job.error,
        "details": job.details,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "version": job.version,
    }


class NumberMessages:
    @staticmethod
    def job_updated(job: NumberJob) -> dict:
        return {"type": "number_job.updated", "version": job.version, "job": job_summary(job)}
