from rest_framework import serializers

from exchanges.choices import StreamKind, StreamState
from marketdata.models import ConnectorStatus


class ConnectorOutput(serializers.ModelSerializer):
    stream = serializers.ChoiceField(choices=StreamKind.choices)
    state = serializers.ChoiceField(choices=StreamState.choices)

    class Meta:
        model = ConnectorStatus
        fields = [
            "id",
            "exchange",
            "account",
            "stream",
            "state",
            "detail",
            "started_at",
            "last_heartbeat_at",
            "last_message_at",
            "messages",
            "reconnects",
            "updated_at",
        ]
        read_only_fields = fields
