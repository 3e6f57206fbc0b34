# Switchboard production image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DJANGO_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
      libharfbuzz-subset0 fonts-dejavu-core poppler-utils \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 switchboard
WORKDIR /app
COPY pyproject.toml ./
COPY marketplace ./marketplace
COPY buyers ./buyers
COPY sellers ./sellers
COPY rfq ./rfq
COPY billing ./billing
RUN pip install .
COPY . .
# collectstatic needs settings but no real secrets.
RUN SECRET_KEY=collectstatic ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
RUN mkdir -p /app/media && chown -R switchboard /app/media
USER switchboard
EXPOSE 8000
CMD ["gunicorn", "marketplace.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
