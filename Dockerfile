# Front-end bundle: built from package.json + package-lock.json, never a CDN.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./frontend
RUN npm run build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contactcenter ./contactcenter
COPY apps ./apps
RUN pip install --no-cache-dir -e ".[s3]"
COPY manage.py ./
COPY templates ./templates
COPY static ./static
COPY --from=assets /app/static/dist ./static/dist
# collectstatic needs settings but no database or secrets.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput
RUN useradd --create-home app && mkdir -p var/media && chown -R app var
USER app
EXPOSE 8000
CMD ["uvicorn", "contactcenter.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
