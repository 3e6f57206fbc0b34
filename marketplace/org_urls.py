from django.urls import path

from marketplace import org_views as views

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/invite/", views.invite, name="people_invite"),
    path("people/leave/", views.leave, name="people_leave"),
    path("people/<int:pk>/role/", views.membership_role, name="membership_role"),
    path("people/<int:pk>/remove/", views.membership_remove, name="membership_remove"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("submit-review/", views.submit_review, name="organization_submit_review"),
]
