FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway_site gateway_site
COPY exchanges exchanges
COPY orders orders
COPY marketdata marketdata
COPY portfolio portfolio
COPY risk risk
COPY manage.py ./
RUN pip install --no-cache-dir .
# collectstatic needs settings, not secrets: with DEBUG off no secret is generated into var/, and
# the throwaway values below live only in this command, never in a layer.
RUN DEBUG=false SECRET_KEY=collectstatic-only \
    GATEWAY_SECRETS_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "gateway_site.asgi:application"]
